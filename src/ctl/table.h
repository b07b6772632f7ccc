// Plain-text tables: a header row and left-aligned columns separated by three spaces, like
// kubectl's, so they read well and cut/awk well.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace turnout::ctl {

using Row = std::vector<std::string>;

// Writes `header` and `rows`, each column as wide as its widest cell (UTF-8 aware). Short
// rows are padded with empty cells; trailing spaces are trimmed.
void writeTable(std::ostream& out, const Row& header, const std::vector<Row>& rows);

}  // namespace turnout::ctl
