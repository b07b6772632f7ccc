// The store's private JSON codec of the model: how services, routes and listeners are kept in
// the database's body columns and in the change log. Field names follow DESIGN §1 so the rows
// read like the admin API's objects, but this codec is the store's own: it trusts its input
// (the store wrote it) and reports, rather than diagnoses, a body it cannot read. Missing
// fields take the model's defaults, so rows written before a field existed still load.
#pragma once

#include <string>
#include <string_view>

#include "config/model.h"

namespace turnout::store {

std::string encode(const config::Listener& listener);
std::string encode(const config::Service& service);
std::string encode(const config::Route& route);

// False with `error` when `text` is not JSON or a field has the wrong type.
bool decode(std::string_view text, config::Listener& out, std::string& error);
bool decode(std::string_view text, config::Service& out, std::string& error);
bool decode(std::string_view text, config::Route& out, std::string& error);

}  // namespace turnout::store
