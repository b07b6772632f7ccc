// Whole documents in the shapes that are not the native model itself: paralarva's config.yaml
// ({proxy: {listen, services}}) and the native `fallback:` shorthand. The decoder
// (config/decoder.h) reads them into a Document; finishDocument() checks what only makes sense
// in those shapes and translates them into the native model. Private to the config module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/model.h"

namespace turnout::config {

// Fields are optional so that a missing one can be told from an empty one: paralarva requires
// every field, and the error names the field that is absent.
struct ParalarvaAddress {
  std::optional<std::string> address;  // an IP literal, no host name
  std::optional<uint32_t> port;        // 1-65535; 0 when the value did not decode
};

struct ParalarvaService {
  std::optional<std::string> name;
  std::optional<std::string> domain;
  std::optional<std::vector<ParalarvaAddress>> hosts;
};

struct ParalarvaProxy {
  std::optional<ParalarvaAddress> listen;
  std::optional<std::vector<ParalarvaService>> services;
};

// What the decoder read from one document, in whichever shape it was.
struct Document {
  bool paralarva = false;  // the root held `proxy`: `proxy` is meaningful, `native` is not
  ParalarvaProxy proxy;    // paralarva's config.yaml
  Config native;           // listeners, services, routes
  std::optional<std::string> fallback;  // `fallback: "IP:PORT"`, in either shape
};

// The name of the shorthand's service and the id of its route.
inline constexpr const char* kFallbackName = "fallback";

// Checks the parts of `document` the native validation cannot see (paralarva's fields and
// the fallback), validates the result and moves it to `out`. Errors carry field paths and no
// lines (DecodeState::finish adds them); `out` is meaningful only when there are none.
std::vector<Error> finishDocument(Document&& document, Config& out);

}  // namespace turnout::config
