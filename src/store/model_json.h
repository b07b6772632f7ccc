// How the store keeps model objects in its body columns and change log: the config module's
// JSON encoding (the admin API's), so a row reads like the object the API returns and there is
// one codec to extend when the model grows. Missing fields take the model's defaults, so rows
// written before a field existed still load.
#pragma once

#include <string>
#include <string_view>

#include "config/model.h"

namespace turnout::store {

std::string encode(const config::Listener& listener);
std::string encode(const config::Service& service);
std::string encode(const config::Route& route);

// False with `error` when `text` does not hold a valid object of that kind.
bool decode(std::string_view text, config::Listener& out, std::string& error);
bool decode(std::string_view text, config::Service& out, std::string& error);
bool decode(std::string_view text, config::Route& out, std::string& error);

}  // namespace turnout::store
