// config::Identity: parsing --identity, matching `source` conditions against it (the native
// "NAME:VERSION", Amalgam8's early "NAME_VERSION" and tag lists), and checkIdentity's syntax.
#include "config/identity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace turnout::config {
namespace {

TEST(IdentityTest, ParseSplitsNameAndVersionAtTheFirstColon) {
  EXPECT_EQ(Identity::parse("reviews:v2"), (Identity{"reviews", "v2"}));
  EXPECT_EQ(Identity::parse("reviews"), (Identity{"reviews", ""}));
  EXPECT_EQ(Identity::parse("reviews:v2,canary"), (Identity{"reviews", "v2,canary"}));
  EXPECT_EQ(Identity::parse(""), (Identity{"", ""}));
  // The early Amalgam8 form stays a name: matches() understands it, parse() does not split it.
  EXPECT_EQ(Identity::parse("source_v1"), (Identity{"source_v1", ""}));
}

TEST(IdentityTest, TextIsTheInverseOfParse) {
  EXPECT_EQ(Identity::parse("reviews:v2").text(), "reviews:v2");
  EXPECT_EQ(Identity::parse("reviews").text(), "reviews");
  EXPECT_EQ(Identity::parse("reviews:v2,canary").text(), "reviews:v2,canary");
  EXPECT_EQ(Identity::parse("").text(), "");
}

TEST(IdentityTest, EmptySourceMatchesEveryIdentity) {
  EXPECT_TRUE(Identity::parse("reviews:v2").matches(""));
  EXPECT_TRUE(Identity::parse("reviews").matches(""));
  EXPECT_TRUE(Identity::parse("source_v1").matches(""));
  EXPECT_TRUE(Identity{}.matches(""));
}

TEST(IdentityTest, NameAloneMatchesAnyVersion) {
  EXPECT_TRUE(Identity::parse("reviews:v2").matches("reviews"));
  EXPECT_TRUE(Identity::parse("reviews:v1").matches("reviews"));
  EXPECT_TRUE(Identity::parse("reviews").matches("reviews"));
  EXPECT_TRUE(Identity::parse("reviews:v2,canary").matches("reviews"));
  EXPECT_FALSE(Identity::parse("reviews:v2").matches("ratings"));
  EXPECT_FALSE(Identity::parse("reviews:v2").matches("review"));
  EXPECT_FALSE(Identity::parse("reviews:v2").matches("reviewsx"));
}

TEST(IdentityTest, NameAndVersionInBothForms) {
  const Identity me = Identity::parse("reviews:v2");
  EXPECT_TRUE(me.matches("reviews:v2"));
  EXPECT_TRUE(me.matches("reviews_v2"));
  EXPECT_FALSE(me.matches("reviews:v1"));
  EXPECT_FALSE(me.matches("reviews_v1"));
  EXPECT_FALSE(me.matches("ratings:v2"));
  EXPECT_FALSE(me.matches("ratings_v2"));
  EXPECT_FALSE(me.matches("reviews:v22"));
  EXPECT_FALSE(me.matches("reviews_v22"));
  EXPECT_FALSE(me.matches("reviewsXv2"));
  EXPECT_FALSE(me.matches("reviews__v2"));
}

TEST(IdentityTest, IdentityWithoutVersionDoesNotMatchVersionedSources) {
  const Identity me = Identity::parse("reviews");
  EXPECT_FALSE(me.matches("reviews:v1"));
  EXPECT_FALSE(me.matches("reviews_v1"));
}

TEST(IdentityTest, UnderscoreIdentityMatchesOnlyItsOwnName) {
  // --identity source_v1 (Amalgam8's A8_SERVICE=source_v1): a name with an underscore.
  const Identity me = Identity::parse("source_v1");
  EXPECT_TRUE(me.matches("source_v1"));
  EXPECT_FALSE(me.matches("source"));
  EXPECT_FALSE(me.matches("source:v1"));
  EXPECT_FALSE(me.matches("source_v2"));
  EXPECT_FALSE(me.matches("source_v1:v1"));
}

TEST(IdentityTest, ColonIdentityMatchesTheUnderscoreSource) {
  const Identity me = Identity::parse("source:v1");
  EXPECT_TRUE(me.matches("source_v1"));
  EXPECT_TRUE(me.matches("source:v1"));
  EXPECT_TRUE(me.matches("source"));
  EXPECT_FALSE(me.matches("source_v2"));
}

TEST(IdentityTest, TagLists) {
  const Identity me = Identity::parse("reviews:v2,canary");
  EXPECT_TRUE(me.matches("reviews:canary"));
  EXPECT_TRUE(me.matches("reviews:v2"));
  EXPECT_TRUE(me.matches("reviews:version=v2"));
  EXPECT_TRUE(me.matches("reviews:v2,canary"));
  EXPECT_TRUE(me.matches("reviews:canary,v2"));
  EXPECT_TRUE(me.matches("reviews:canary,version=v2"));
  EXPECT_FALSE(me.matches("reviews:v3"));
  EXPECT_FALSE(me.matches("reviews:canary,v3"));
  EXPECT_FALSE(me.matches("reviews:stable"));
  EXPECT_FALSE(me.matches("ratings:canary"));
  EXPECT_FALSE(me.matches("reviews:version=canary,v1"));
}

TEST(IdentityTest, VersionEqualsFormOnTheIdentitySide) {
  const Identity me = Identity::parse("reviews:version=v2,canary");
  EXPECT_TRUE(me.matches("reviews:v2"));
  EXPECT_TRUE(me.matches("reviews:version=v2"));
  EXPECT_TRUE(me.matches("reviews:canary"));
  EXPECT_FALSE(me.matches("reviews:v1"));
}

TEST(IdentityTest, EmptyNameMatchesOnlyTheEmptySource) {
  for (const Identity& me : {Identity{}, Identity{"", "v1"}, Identity::parse("")}) {
    EXPECT_TRUE(me.matches(""));
    EXPECT_FALSE(me.matches("reviews"));
    EXPECT_FALSE(me.matches("reviews:v1"));
    EXPECT_FALSE(me.matches("reviews_v1"));
    EXPECT_FALSE(me.matches(":v1"));
    EXPECT_FALSE(me.matches("_v1"));
  }
}

TEST(IdentityTest, CheckIdentityAcceptsTheDocumentedForms) {
  for (const char* text : {"reviews", "reviews:v2", "reviews_v2", "source_v1", "reviews:v2,canary",
                           "reviews:version=v2", "my-svc.ns:v1.2-rc_3", "A8:V1"}) {
    EXPECT_TRUE(checkIdentity(text).empty()) << text;
  }
}

TEST(IdentityTest, CheckIdentityRefusesBadSyntax) {
  const std::string kMessage = "must be NAME or NAME:VERSION (letters, digits, '.', '_', '-')";
  for (const char* text : {"a b", ":v1", "x:", "", ":", "a/b", "a:b c", "a:b;c", "reviews:v1:v2"}) {
    std::vector<Error> errors = checkIdentity(text);
    ASSERT_EQ(errors.size(), 1u) << "'" << text << "'";
    EXPECT_EQ(errors[0].field, "") << text;
    EXPECT_EQ(errors[0].line, 0) << text;
    EXPECT_EQ(errors[0].message, kMessage) << text;
  }
}

}  // namespace
}  // namespace turnout::config
