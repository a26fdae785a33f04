// troupe's version, reported by Identify and every binary's --version.
#pragma once

namespace troupe {

inline constexpr char kTroupeVersion[] = "0.1.0";

}  // namespace troupe
