#include "ctl/args.h"

#include <gtest/gtest.h>

#include <map>

namespace turnout::ctl {
namespace {

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ParseResult parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return parseArgs(args, envOf(std::move(env)));
}

TEST(CtlArgs, DefaultsWithoutEnvironment) {
  ParseResult r = parse({"get", "services"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.admin, "127.0.0.1:9901");
  EXPECT_EQ(r.options.token, "");
  EXPECT_EQ(r.options.output, Output::kTable);
  EXPECT_EQ(r.options.words, (std::vector<std::string>{"get", "services"}));
}

TEST(CtlArgs, EnvironmentGivesDefaultsAndOptionsWin) {
  ParseResult r =
      parse({"changes"}, {{"TURNOUT_ADMIN", "10.0.0.1:1"}, {"TURNOUT_ADMIN_TOKEN", "s3cret"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.options.admin, "10.0.0.1:1");
  EXPECT_EQ(r.options.token, "s3cret");
  r = parse({"--admin", "127.0.0.1:5", "--token=t2", "changes"},
            {{"TURNOUT_ADMIN", "10.0.0.1:1"}, {"TURNOUT_ADMIN_TOKEN", "s3cret"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.options.admin, "127.0.0.1:5");
  EXPECT_EQ(r.options.token, "t2");
}

TEST(CtlArgs, OptionsMayFollowTheCommand) {
  ParseResult r = parse({"get", "routes", "-o", "json", "--admin=127.0.0.1:7"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.output, Output::kJson);
  EXPECT_EQ(r.options.admin, "127.0.0.1:7");
  EXPECT_EQ(r.options.words.size(), 2u);
}

TEST(CtlArgs, GetForms) {
  for (auto words : std::vector<std::vector<std::string>>{{"get", "config"},
                                                          {"get", "services"},
                                                          {"get", "service", "web"},
                                                          {"get", "routes"},
                                                          {"get", "route", "r1"},
                                                          {"get", "routes", "r1"}}) {
    EXPECT_TRUE(parse(words).ok()) << words[1];
  }
  EXPECT_FALSE(parse({"get"}).ok());
  EXPECT_FALSE(parse({"get", "listeners"}).ok());
  EXPECT_FALSE(parse({"get", "config", "x"}).ok());
  EXPECT_FALSE(parse({"get", "service", "a", "b"}).ok());
}

TEST(CtlArgs, ApplyNeedsAFile) {
  EXPECT_FALSE(parse({"apply"}).ok());
  ParseResult r = parse({"apply", "-f", "-"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.file, "-");
  EXPECT_FALSE(r.options.replace);
  r = parse({"apply", "--replace", "--filename=c.yaml"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.file, "c.yaml");
  EXPECT_TRUE(r.options.replace);
  EXPECT_FALSE(parse({"apply", "-f"}).ok());
  EXPECT_FALSE(parse({"apply", "extra", "-f", "x"}).ok());
}

TEST(CtlArgs, DeleteForms) {
  ParseResult r = parse({"delete", "service", "web"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.options.words[2], "web");
  EXPECT_TRUE(parse({"delete", "route", "r1"}).ok());
  EXPECT_FALSE(parse({"delete", "route"}).ok());
  EXPECT_FALSE(parse({"delete", "config", "x"}).ok());
}

TEST(CtlArgs, DoubleDashLetsANameStartWithADash) {
  ParseResult r = parse({"delete", "route", "--", "-odd"});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.options.words[2], "-odd");
}

TEST(CtlArgs, Changes) {
  ParseResult r = parse({"changes", "--since", "42"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.options.since, 42);
  EXPECT_FALSE(parse({"changes"}).options.since.has_value());
  EXPECT_FALSE(parse({"changes", "--since", "-1"}).ok());
  EXPECT_FALSE(parse({"changes", "--since", "abc"}).ok());
  EXPECT_FALSE(parse({"changes", "extra"}).ok());
}

TEST(CtlArgs, BadUsage) {
  EXPECT_FALSE(parse({}).ok());
  EXPECT_FALSE(parse({"frobnicate"}).ok());
  EXPECT_FALSE(parse({"get", "services", "--bogus"}).ok());
  EXPECT_FALSE(parse({"get", "services", "-o", "xml"}).ok());
  EXPECT_FALSE(parse({"get", "services", "-o"}).ok());
  EXPECT_FALSE(parse({"get", "services", "-f", "x"}).ok());
  EXPECT_FALSE(parse({"get", "services", "--since", "1"}).ok());
  EXPECT_FALSE(parse({"delete", "route", "r", "--replace"}).ok());
  EXPECT_FALSE(parse({"get", "services", "--timeout", "0"}).ok());
  EXPECT_NE(parse({"frobnicate"}).error.find("frobnicate"), std::string::npos);
}

TEST(CtlArgs, HelpNeedsNoCommand) {
  ParseResult r = parse({"--help"});
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.options.help);
  EXPECT_NE(usageText().find("apply -f FILE"), std::string::npos);
}

}  // namespace
}  // namespace turnout::ctl
