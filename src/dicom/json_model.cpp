#include "dicom/json_model.hpp"

#include <fmt/format.h>

namespace dx::dicom {
namespace {

bool IsIntegerVr(const std::string& vr) {
  return vr == "IS" || vr == "SS" || vr == "US" || vr == "SL" || vr == "UL" || vr == "SV" || vr == "UV";
}

bool IsDecimalVr(const std::string& vr) { return vr == "DS" || vr == "FL" || vr == "FD"; }

}  // namespace

nlohmann::json ToDicomJson(const Attributes& attributes) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& element : attributes.elements()) {
    nlohmann::json entry{{"vr", element.vr.empty() ? "UN" : element.vr}};
    if (!element.value.empty() && element.vr != "SQ") {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& part : SplitValues(element.value)) {
        if (element.vr == "PN") {
          values.push_back(part.empty() ? nlohmann::json(nullptr) : nlohmann::json{{"Alphabetic", part}});
        } else if (IsIntegerVr(element.vr) || IsDecimalVr(element.vr)) {
          try {
            std::size_t used = 0;
            if (IsIntegerVr(element.vr)) {
              long long number = std::stoll(part, &used);
              values.push_back(number);
            } else {
              double number = std::stod(part, &used);
              values.push_back(number);
            }
          } catch (const std::exception&) {
            values.push_back(nullptr);
          }
        } else {
          values.push_back(part);
        }
      }
      entry["Value"] = std::move(values);
    }
    object[fmt::format("{:04X}{:04X}", element.tag.group, element.tag.element)] = std::move(entry);
  }
  return object;
}

}  // namespace dx::dicom
