#include "core/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

namespace dx {

// Named (not anonymous) because ConfigBuilder::Impl holds a list of them.
namespace config_options {

using Setter = std::function<Result<void>(Config&, const std::string&)>;

struct Option {
  std::string name;         // flag name; env DXHUB_<NAME>; TOML key with '_' for '-'
  std::string description;
  Setter set;
  bool repeatable = false;  // flag may repeat; env and TOML give a comma list / array
};

}  // namespace config_options

namespace {

using config_options::Option;
using config_options::Setter;

Result<long long> ParseInteger(const std::string& name, const std::string& text, long long lo,
                               long long hi) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used != text.size() || value < lo || value > hi) throw std::out_of_range(text);
    return value;
  } catch (const std::exception&) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("option {}: '{}' is not an integer in [{}, {}]", name, text, lo, hi));
  }
}

Result<bool> ParseBool(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return Fail(ErrorCode::kInvalidInput, fmt::format("option {}: '{}' is not true or false", name, text));
}

Result<void> ValidAe(const std::string& name, const std::string& ae) {
  if (ae.empty() || ae.size() > 16 || ae.find('\\') != std::string::npos ||
      ae.find_first_not_of(' ') == std::string::npos) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("option {}: '{}' is not an AE title (1-16 characters, no backslash)", name, ae));
  }
  return {};
}

template <typename Int>
Setter IntSetter(Int Config::*field, long long lo, long long hi, const char* name) {
  return [=](Config& c, const std::string& v) -> Result<void> {
    auto n = ParseInteger(name, v, lo, hi);
    if (!n) return tl::unexpected(n.error());
    c.*field = static_cast<Int>(*n);
    return {};
  };
}

std::vector<Option> Options() {
  return {
      {"data-dir", "folder for the index and blobs", [](Config& c, const std::string& v) -> Result<void> {
         if (v.empty()) return Fail(ErrorCode::kInvalidInput, "option data-dir: must not be empty");
         c.data_dir = v;
         return {};
       }},
      {"bind", "address the listeners bind to", [](Config& c, const std::string& v) -> Result<void> {
         c.bind_address = v;
         return {};
       }},
      {"dicom-port", "DIMSE port (0 picks a free port)", IntSetter(&Config::dicom_port, 0, 65535, "dicom-port")},
      {"http-port", "HTTP port (0 picks a free port)", IntSetter(&Config::http_port, 0, 65535, "http-port")},
      {"hl7-port", "MLLP port for HL7 v2 results (0 picks a free port)", IntSetter(&Config::hl7_port, 0, 65535, "hl7-port")},
      {"max-hl7-message-bytes", "largest HL7 v2 message accepted over MLLP",
       IntSetter(&Config::max_hl7_message_bytes, 1024, 1ll << 30, "max-hl7-message-bytes")},
      {"ae-title", "this node's AE title", [](Config& c, const std::string& v) -> Result<void> {
         if (auto ok = ValidAe("ae-title", v); !ok) return ok;
         c.ae_title = v;
         return {};
       }},
      {"allow-ae", "calling AE titles allowed to associate (default: any)",
       [](Config& c, const std::string& v) -> Result<void> {
         if (auto ok = ValidAe("allow-ae", v); !ok) return ok;
         c.allowed_calling_aes.push_back(v);
         return {};
       },
       true},
      {"peer", "C-MOVE destination AE=host:port", [](Config& c, const std::string& v) -> Result<void> {
         auto eq = v.find('='), colon = v.rfind(':');
         if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
           return Fail(ErrorCode::kInvalidInput, fmt::format("option peer: '{}' is not AE=host:port", v));
         }
         std::string ae = v.substr(0, eq);
         if (auto ok = ValidAe("peer", ae); !ok) return ok;
         auto port = ParseInteger("peer", v.substr(colon + 1), 1, 65535);
         if (!port) return tl::unexpected(port.error());
         c.peers[ae] = DicomPeer{v.substr(eq + 1, colon - eq - 1), static_cast<int>(*port)};
         return {};
       },
       true},
      {"duplicates", "policy for an already stored SOP Instance UID: ignore-identical, keep-newest, reject",
       [](Config& c, const std::string& v) -> Result<void> {
         auto p = ParseDuplicatePolicy(v);
         if (!p) return tl::unexpected(p.error());
         c.duplicate_policy = *p;
         return {};
       }},
      {"durable", "fsync objects and the index before acknowledging", [](Config& c, const std::string& v) -> Result<void> {
         auto b = ParseBool("durable", v);
         if (!b) return tl::unexpected(b.error());
         c.durable = *b;
         return {};
       }},
      {"max-object-bytes", "largest DICOM object accepted",
       IntSetter(&Config::max_object_bytes, 1024, 1ll << 40, "max-object-bytes")},
      {"max-associations", "concurrent DIMSE associations",
       IntSetter(&Config::max_associations, 1, 4096, "max-associations")},
      {"ingest-batch", "most index writes in one commit", IntSetter(&Config::ingest_batch, 1, 100000, "ingest-batch")},
      {"results-apply-delay-ms",
       "how long acknowledged HL7 results may gather in the journal before they are applied to the result store "
       "in one transaction (a read never waits for it)",
       IntSetter(&Config::results_apply_delay_ms, 0, 3600000, "results-apply-delay-ms")},
      {"index",
       "where the index lives: sqlite (DATA/index.sqlite) or a PostgreSQL database shared by several nodes, as a "
       "postgresql:// URL or a libpq conninfo ('host=... dbname=...')",
       [](Config& c, const std::string& v) -> Result<void> {
         // The value may hold a password: it is never repeated in a message.
         const bool postgres = v.rfind("postgresql://", 0) == 0 || v.rfind("postgres://", 0) == 0 ||
                               v.find('=') != std::string::npos;
         if (v != "sqlite" && !postgres) {
           return Fail(ErrorCode::kInvalidInput,
                       "option index: expected sqlite, a postgresql:// URL or a libpq conninfo such as "
                       "'host=db.example dbname=dxhub'");
         }
         c.index = v;
         return {};
       }},
      {"cors-origin",
       "a browser origin (scheme://host[:port]) allowed to call the HTTP API from its pages, or * for any",
       [](Config& c, const std::string& v) -> Result<void> {
         const bool origin = (v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0) &&
                             v.find('/', v.find("//") + 2) == std::string::npos && v.size() > 8;
         if (v != "*" && !origin) {
           return Fail(ErrorCode::kInvalidInput,
                       fmt::format("option cors-origin: '{}' is not * or an origin such as https://viewer.example:8443",
                                   v));
         }
         c.cors_origins.push_back(v);
         return {};
       },
       true},
      {"max-request-bytes", "largest HTTP request body accepted (STOW-RS uploads included)",
       IntSetter(&Config::max_request_bytes, 1024, 1ll << 40, "max-request-bytes")},
      {"knowledge-dir", "decision-support knowledge base folder", [](Config& c, const std::string& v) -> Result<void> {
         if (v.empty()) return Fail(ErrorCode::kInvalidInput, "option knowledge-dir: must not be empty");
         c.knowledge_dir = v;
         return {};
       }},
      {"log-level", "trace, debug, info, warn, error, off", [](Config& c, const std::string& v) -> Result<void> {
         static const std::vector<std::string> kLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};
         if (std::find(kLevels.begin(), kLevels.end(), v) == kLevels.end()) {
           return Fail(ErrorCode::kInvalidInput, fmt::format("option log-level: '{}' is not a level", v));
         }
         c.log_level = v;
         return {};
       }},
  };
}

std::string EnvName(const std::string& option) {
  std::string env = "DXHUB_";
  for (char ch : option) env.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(ch)));
  return env;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

std::string TomlScalar(const toml::node& node) {
  if (auto s = node.as_string()) return s->get();
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  if (auto f = node.as_floating_point()) return std::to_string(f->get());
  return {};
}

}  // namespace

struct ConfigBuilder::Impl {
  std::vector<config_options::Option> options = Options();
  std::string config_file;
  std::map<std::string, std::vector<std::string>> flag_values;
};

ConfigBuilder::ConfigBuilder(CLI::App& app) : impl_(std::make_shared<Impl>()) {
  app.add_option("--config", impl_->config_file, "TOML configuration file")->check(CLI::ExistingFile);
  for (auto& option : impl_->options) {
    auto& values = impl_->flag_values[option.name];
    auto* flag = app.add_option("--" + option.name, values,
                                option.description + " [env " + EnvName(option.name) + "]");
    // One value per occurrence, so "--data-dir D SRC" leaves SRC to the subcommand.
    flag->expected(1)->allow_extra_args(false)->multi_option_policy(
        option.repeatable ? CLI::MultiOptionPolicy::TakeAll : CLI::MultiOptionPolicy::TakeLast);
  }
}

Result<Config> ConfigBuilder::Finish() {
  Config config;
  auto apply = [&](const Option& option, const std::vector<std::string>& values,
                   const std::string& where) -> Result<void> {
    if (option.repeatable) {
      if (option.name == "allow-ae") config.allowed_calling_aes.clear();
      if (option.name == "peer") config.peers.clear();
    }
    for (const auto& v : values) {
      if (auto ok = option.set(config, v); !ok) {
        return Fail(ok.error().code, ok.error().message + " (from " + where + ")");
      }
    }
    return {};
  };

  if (!impl_->config_file.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(impl_->config_file);
    } catch (const toml::parse_error& e) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("config file {}: {} at line {}", impl_->config_file, e.description(),
                              e.source().begin.line));
    }
    for (auto&& [key, node] : table) {
      std::string name(key.str());
      std::replace(name.begin(), name.end(), '_', '-');
      auto it = std::find_if(impl_->options.begin(), impl_->options.end(),
                             [&](const Option& o) { return o.name == name; });
      if (it == impl_->options.end()) {
        return Fail(ErrorCode::kInvalidInput,
                    fmt::format("config file {}: unknown option '{}'", impl_->config_file, key.str()));
      }
      std::vector<std::string> values;
      if (auto array = node.as_array()) {
        for (auto& element : *array) values.push_back(TomlScalar(element));
      } else if (auto peers = node.as_table(); peers && name == "peer") {
        for (auto&& [ae, peer] : *peers) {
          auto* t = peer.as_table();
          if (!t) continue;
          values.push_back(fmt::format("{}={}:{}", ae.str(), (*t)["host"].value_or(std::string("127.0.0.1")),
                                       (*t)["port"].value_or(int64_t{104})));
        }
      } else {
        values.push_back(TomlScalar(node));
      }
      if (auto ok = apply(*it, values, "config file " + impl_->config_file); !ok) return tl::unexpected(ok.error());
    }
  }
  for (const auto& option : impl_->options) {
    if (const char* env = std::getenv(EnvName(option.name).c_str())) {
      auto values = option.repeatable ? SplitComma(env) : std::vector<std::string>{env};
      if (auto ok = apply(option, values, "environment " + EnvName(option.name)); !ok) return tl::unexpected(ok.error());
    }
  }
  for (const auto& option : impl_->options) {
    const auto& values = impl_->flag_values[option.name];
    if (values.empty()) continue;
    if (auto ok = apply(option, values, "flag --" + option.name); !ok) return tl::unexpected(ok.error());
  }
  return config;
}

std::string ToString(DuplicatePolicy policy) {
  switch (policy) {
    case DuplicatePolicy::kIgnoreIdentical: return "ignore-identical";
    case DuplicatePolicy::kKeepNewest: return "keep-newest";
    case DuplicatePolicy::kReject: return "reject";
  }
  return "ignore-identical";
}

Result<DuplicatePolicy> ParseDuplicatePolicy(std::string_view text) {
  if (text == "ignore-identical") return DuplicatePolicy::kIgnoreIdentical;
  if (text == "keep-newest") return DuplicatePolicy::kKeepNewest;
  if (text == "reject") return DuplicatePolicy::kReject;
  return Fail(ErrorCode::kInvalidInput,
              fmt::format("option duplicates: '{}' is not ignore-identical, keep-newest or reject", text));
}

}  // namespace dx
