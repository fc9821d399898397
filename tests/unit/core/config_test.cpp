#include "core/config.hpp"

#include <cstdlib>
#include <fstream>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

namespace dx {
namespace {

Result<Config> Parse(std::vector<std::string> args) {
  CLI::App app;
  ConfigBuilder builder(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  return builder.Finish();
}

TEST(Config, DefaultsWhenNothingGiven) {
  auto config = Parse({});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->dicom_port, 4242);
  EXPECT_EQ(config->ae_title, "DXHUB");
  EXPECT_EQ(config->duplicate_policy, DuplicatePolicy::kIgnoreIdentical);
  EXPECT_FALSE(config->durable);
}

TEST(Config, FlagsOverrideEnvironmentOverrideFile) {
  const std::string path = ::testing::TempDir() + "/dxhub-config-test.toml";
  {
    std::ofstream file(path);
    file << "dicom_port = 1111\nhttp_port = 2222\nae_title = \"FROMFILE\"\n"
         << "[peer.STORESCP]\nhost = \"127.0.0.1\"\nport = 11112\n";
  }
  ::setenv("DXHUB_HTTP_PORT", "3333", 1);
  auto config = Parse({"--config", path, "--ae-title", "FROMFLAG"});
  ::unsetenv("DXHUB_HTTP_PORT");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->dicom_port, 1111);  // file
  EXPECT_EQ(config->http_port, 3333);   // environment beats file
  EXPECT_EQ(config->ae_title, "FROMFLAG");
  ASSERT_EQ(config->peers.count("STORESCP"), 1u);
  EXPECT_EQ(config->peers.at("STORESCP").port, 11112);
}

TEST(Config, InvalidValuesNameTheOption) {
  auto port = Parse({"--dicom-port", "70000"});
  ASSERT_FALSE(port);
  EXPECT_NE(port.error().message.find("dicom-port"), std::string::npos);

  auto ae = Parse({"--ae-title", "WAY-TOO-LONG-AE-TITLE"});
  ASSERT_FALSE(ae);
  EXPECT_NE(ae.error().message.find("ae-title"), std::string::npos);

  auto policy = Parse({"--duplicates", "sometimes"});
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().message.find("duplicates"), std::string::npos);

  auto peer = Parse({"--peer", "NOPORT=localhost"});
  ASSERT_FALSE(peer);
  EXPECT_NE(peer.error().message.find("peer"), std::string::npos);
}

TEST(Config, UnknownFileKeyIsAnError) {
  const std::string path = ::testing::TempDir() + "/dxhub-config-unknown.toml";
  {
    std::ofstream file(path);
    file << "dicom_prot = 1111\n";
  }
  auto config = Parse({"--config", path});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("dicom_prot"), std::string::npos);
}

TEST(Config, RepeatableFlags) {
  auto config = Parse({"--allow-ae", "CT1", "--allow-ae", "MR1", "--peer", "A=h:1", "--peer", "B=h:2"});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->allowed_calling_aes, (std::vector<std::string>{"CT1", "MR1"}));
  EXPECT_EQ(config->peers.size(), 2u);
}

}  // namespace
}  // namespace dx
