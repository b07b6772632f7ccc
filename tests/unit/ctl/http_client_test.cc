#include "ctl/http_client.h"

#include <gtest/gtest.h>

#include "fake_admin.h"

namespace turnout::ctl {
namespace {

TEST(CtlPercentEncode, KeepsUnreservedOnly) {
  EXPECT_EQ(percentEncode("web-1.v2_~x"), "web-1.v2_~x");
  EXPECT_EQ(percentEncode("a/b c?d#e%f"), "a%2Fb%20c%3Fd%23e%25f");
  EXPECT_EQ(percentEncode("é"), "%C3%A9");
  EXPECT_EQ(percentEncode(""), "");
  EXPECT_EQ(percentEncode(".."), "..");  // a segment, not a path: the server sees the literal
}

TEST(CtlHostPort, Forms) {
  std::string host, port;
  ASSERT_TRUE(splitHostPort("127.0.0.1:9901", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, "9901");
  ASSERT_TRUE(splitHostPort("[::1]:80", host, port));
  EXPECT_EQ(host, "::1");
  ASSERT_TRUE(splitHostPort("http://localhost:8/", host, port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, "8");
  EXPECT_FALSE(splitHostPort("127.0.0.1", host, port));
  EXPECT_FALSE(splitHostPort(":80", host, port));
  EXPECT_FALSE(splitHostPort("h:0", host, port));
  EXPECT_FALSE(splitHostPort("h:70000", host, port));
  EXPECT_FALSE(splitHostPort("::1:80", host, port));
  EXPECT_FALSE(splitHostPort("h:8x", host, port));
}

TEST(CtlHttp, SerializeWithBodyAndToken) {
  HttpRequest r{"PUT", "/v1/services/web", "{}", "application/json"};
  std::string wire = serializeRequest(r, "127.0.0.1:9901", "tok");
  EXPECT_EQ(wire,
            "PUT /v1/services/web HTTP/1.1\r\nHost: 127.0.0.1:9901\r\n"
            "User-Agent: turnout-ctl/0.1\r\nAccept: application/json\r\nConnection: close\r\n"
            "Authorization: Bearer tok\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}");
  std::string get = serializeRequest(HttpRequest{}, "h:1", "");
  EXPECT_EQ(get.find("Authorization"), std::string::npos);
  EXPECT_EQ(get.find("Content-Length"), std::string::npos);
}

TEST(CtlHttp, ParseContentLength) {
  HttpResponse r;
  std::string why;
  std::string bytes = "HTTP/1.1 201 Created\r\nETag: \"3\"\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(parseHttpResponse(bytes.substr(0, 20), false, r, why), ParseStatus::kIncomplete);
  EXPECT_EQ(parseHttpResponse(bytes.substr(0, bytes.size() - 1), false, r, why),
            ParseStatus::kIncomplete);
  ASSERT_EQ(parseHttpResponse(bytes, false, r, why), ParseStatus::kComplete) << why;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("etag"), "\"3\"");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(parseHttpResponse(bytes.substr(0, bytes.size() - 1), true, r, why),
            ParseStatus::kError);
}

TEST(CtlHttp, ParseUntilCloseAndChunked) {
  HttpResponse r;
  std::string why;
  std::string close = "HTTP/1.0 200 OK\r\nX: y\r\n\r\nall of it";
  EXPECT_EQ(parseHttpResponse(close, false, r, why), ParseStatus::kIncomplete);
  ASSERT_EQ(parseHttpResponse(close, true, r, why), ParseStatus::kComplete);
  EXPECT_EQ(r.body, "all of it");
  std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\nA;x=1\r\n0123456789\r\n0\r\n\r\n";
  EXPECT_EQ(parseHttpResponse(chunked.substr(0, chunked.size() - 2), false, r, why),
            ParseStatus::kIncomplete);
  ASSERT_EQ(parseHttpResponse(chunked, false, r, why), ParseStatus::kComplete) << why;
  EXPECT_EQ(r.body, "abc0123456789");
}

TEST(CtlHttp, ParseErrors) {
  HttpResponse r;
  std::string why;
  EXPECT_EQ(parseHttpResponse("", true, r, why), ParseStatus::kError);
  EXPECT_EQ(parseHttpResponse("garbage\r\n\r\n", false, r, why), ParseStatus::kError);
  EXPECT_EQ(parseHttpResponse("HTTP/1.1 2x0 OK\r\n\r\n", false, r, why), ParseStatus::kError);
  EXPECT_EQ(parseHttpResponse("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", false, r, why),
            ParseStatus::kError);
  EXPECT_EQ(parseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, r, why),
            ParseStatus::kError);
  EXPECT_EQ(parseHttpResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, r, why),
            ParseStatus::kError);
}

TEST(CtlHttp, RoundTripAgainstAServer) {
  fake::FakeAdmin server(
      [](const std::string&) { return fake::FakeAdmin::answer(200, R"({"ok":true})"); });
  HttpClient client(server.address(), "sekrit", 5);
  HttpResponse response;
  HttpFailure failure;
  ASSERT_TRUE(
      client.send({"PUT", "/v1/routes/a%20b", "{\"id\":1}", "application/json"}, response, failure))
      << failure.message;
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"ok":true})");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].rfind("PUT /v1/routes/a%20b HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(requests[0].find("Authorization: Bearer sekrit\r\n"), std::string::npos);
  EXPECT_NE(requests[0].find("\r\n\r\n{\"id\":1}"), std::string::npos);
}

TEST(CtlHttp, ConnectionRefusedIsAClearMessage) {
  int port;
  {
    fake::FakeAdmin probe([](const std::string&) { return std::string(); });
    port = std::stoi(probe.address().substr(10));
  }  // closed: nothing listens there now
  HttpClient client("127.0.0.1:" + std::to_string(port), "", 2);
  HttpResponse response;
  HttpFailure failure;
  EXPECT_FALSE(client.send({}, response, failure));
  EXPECT_NE(failure.message.find("cannot connect to the admin API at 127.0.0.1:"),
            std::string::npos);
  EXPECT_NE(failure.message.find("refused"), std::string::npos) << failure.message;
}

TEST(CtlHttp, InvalidAddress) {
  HttpClient client("nonsense", "", 1);
  HttpResponse response;
  HttpFailure failure;
  EXPECT_FALSE(client.send({}, response, failure));
  EXPECT_NE(failure.message.find("invalid admin address"), std::string::npos);
}

}  // namespace
}  // namespace turnout::ctl
