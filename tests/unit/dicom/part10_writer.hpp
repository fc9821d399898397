// Test helper: writes small explicit VR little endian Part 10 files byte by
// byte, so reader tests need no toolkit to make their input.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace dx::dicom::testing {

class Part10Writer {
 public:
  void Add(std::uint16_t group, std::uint16_t element, const std::string& vr, std::string value) {
    if (value.size() % 2) value.push_back(vr == "UI" || vr == "OB" ? '\0' : ' ');
    auto& out = group == 0x0002 ? meta_ : data_;
    Put16(out, group);
    Put16(out, element);
    out.push_back(vr[0]);
    out.push_back(vr[1]);
    if (vr == "OB" || vr == "OW" || vr == "UN" || vr == "SQ" || vr == "UT") {
      Put16(out, 0);
      Put32(out, static_cast<std::uint32_t>(value.size()));
    } else {
      Put16(out, static_cast<std::uint16_t>(value.size()));
    }
    out.insert(out.end(), value.begin(), value.end());
  }

  std::string Bytes() const {
    std::string file(128, '\0');
    file += "DICM";
    std::vector<char> group_length;
    Put16(group_length, 0x0002);
    Put16(group_length, 0x0000);
    group_length.push_back('U');
    group_length.push_back('L');
    Put16(group_length, 4);
    Put32(group_length, static_cast<std::uint32_t>(meta_.size()));
    file.append(group_length.begin(), group_length.end());
    file.append(meta_.begin(), meta_.end());
    file.append(data_.begin(), data_.end());
    return file;
  }

  void Write(const std::string& path, std::size_t truncate_by = 0) const {
    std::string bytes = Bytes();
    bytes.resize(bytes.size() - truncate_by);
    std::ofstream(path, std::ios::binary) << bytes;
  }

 private:
  static void Put16(std::vector<char>& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
  }
  static void Put32(std::vector<char>& out, std::uint32_t v) {
    Put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
    Put16(out, static_cast<std::uint16_t>(v >> 16));
  }
  std::vector<char> meta_, data_;
};

// A 64×64 16-bit CT image with the given UIDs.
inline Part10Writer SmallCt(const std::string& study, const std::string& series, const std::string& sop) {
  Part10Writer w;
  w.Add(0x0002, 0x0001, "OB", std::string("\0\1", 2));
  w.Add(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.2");
  w.Add(0x0002, 0x0003, "UI", sop);
  w.Add(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
  w.Add(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2");
  w.Add(0x0008, 0x0018, "UI", sop);
  w.Add(0x0008, 0x0020, "DA", "20260102");
  w.Add(0x0008, 0x0050, "SH", "ACC123");
  w.Add(0x0008, 0x0060, "CS", "CT");
  w.Add(0x0010, 0x0010, "PN", "TEST^PATIENT");
  w.Add(0x0010, 0x0020, "LO", "9434765919");
  w.Add(0x0010, 0x0021, "LO", "NHS");
  w.Add(0x0020, 0x000D, "UI", study);
  w.Add(0x0020, 0x000E, "UI", series);
  w.Add(0x0020, 0x0013, "IS", "7");
  w.Add(0x0028, 0x0002, "US", std::string("\1\0", 2));
  w.Add(0x0028, 0x0004, "CS", "MONOCHROME2");
  w.Add(0x0028, 0x0010, "US", std::string("\x40\0", 2));
  w.Add(0x0028, 0x0011, "US", std::string("\x40\0", 2));
  w.Add(0x0028, 0x0100, "US", std::string("\x10\0", 2));
  w.Add(0x0028, 0x0101, "US", std::string("\x10\0", 2));
  w.Add(0x0028, 0x0102, "US", std::string("\x0f\0", 2));
  w.Add(0x0028, 0x0103, "US", std::string("\0\0", 2));
  w.Add(0x7FE0, 0x0010, "OW", std::string(64 * 64 * 2, '\x11'));
  return w;
}

}  // namespace dx::dicom::testing
