// Where the storage contract suites find PostgreSQL: DXHUB_TEST_POSTGRES holds
// a libpq conninfo or URL (scripts/test.sh starts a throwaway server and sets
// it). Each test gets a schema of its own, dropped when the test ends. Without
// the variable, PostgreSQL tests fail under CI (CI set) and are skipped locally.
// For the test thread only.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "storage/postgres/postgres_database.hpp"

namespace dx::storage::pgtest {

inline std::string Conninfo() {
  const char* value = std::getenv("DXHUB_TEST_POSTGRES");
  return value ? value : "";
}

inline bool InCi() {
  const char* value = std::getenv("CI");
  if (!value) return false;
  const std::string ci = value;
  return !ci.empty() && ci != "0" && ci != "false";
}

inline constexpr char kUnavailable[] =
    "DXHUB_TEST_POSTGRES is not set: PostgreSQL tests need a server (scripts/test.sh starts one; "
    "or run scripts/postgres-test-server.sh start DIR and export the conninfo it prints)";

// In a test body or SetUp: fails (CI) or skips (locally) when no server is configured.
#define DX_REQUIRE_POSTGRES()                        \
  if (::dx::storage::pgtest::Conninfo().empty()) {   \
    if (::dx::storage::pgtest::InCi()) {             \
      FAIL() << ::dx::storage::pgtest::kUnavailable; \
    } else {                                         \
      GTEST_SKIP() << ::dx::storage::pgtest::kUnavailable; \
    }                                                \
  }

// `conninfo` with one more connection parameter, whichever form it has.
inline std::string WithParameter(const std::string& conninfo, const std::string& key, const std::string& value) {
  if (conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
  }
  return conninfo + " " + key + "=" + value;
}

// The schema of the test working in `folder`: a new, empty one the first time
// (its name remembered in the folder), the same one when the test reopens it.
inline std::string Schema(const std::string& folder) {
  const std::filesystem::path marker = std::filesystem::path(folder) / "postgres-schema";
  std::string name;
  if (std::ifstream in(marker); in && std::getline(in, name) && !name.empty()) return name;
  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a of the folder: one schema per test
  for (unsigned char c : folder) hash = (hash ^ c) * 1099511628211ull;
  char text[64];
  std::snprintf(text, sizeof text, "dxtest_%d_%012llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(hash & 0xFFFFFFFFFFFFull));
  name = text;
  auto dropped = RunPostgresSql(Conninfo(), "", "DROP SCHEMA IF EXISTS " + name + " CASCADE");
  EXPECT_TRUE(dropped) << dropped.error().message;
  std::ofstream(marker) << name << "\n";
  return name;
}

// Drops the schema of the test working in `folder`, if it made one.
inline void DropSchema(const std::string& folder) {
  const std::filesystem::path marker = std::filesystem::path(folder) / "postgres-schema";
  std::string name;
  if (std::ifstream in(marker); !(in && std::getline(in, name)) || name.empty()) return;
  auto dropped = RunPostgresSql(Conninfo(), "", "DROP SCHEMA IF EXISTS " + name + " CASCADE");
  EXPECT_TRUE(dropped) << dropped.error().message;
  std::filesystem::remove(marker);
}

}  // namespace dx::storage::pgtest
