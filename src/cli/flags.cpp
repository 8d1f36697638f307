#include "cli/flags.hpp"

#include <algorithm>

#include "common/strings.hpp"

namespace berth::cli {

std::optional<bool> parse_go_bool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  return std::nullopt;
}

void FlagSet::add_bool(std::string name, char short_name, bool* out, std::string help) {
  Flag f{std::move(name), short_name, Flag::Kind::boolean, "", std::move(help), {}};
  std::string n = f.name;
  f.set = [out, n](const std::string& v) -> Status {
    auto b = parse_go_bool(v);
    if (!b) return make_error("invalid boolean value ", quote(v), " for flag -", n);
    *out = *b;
    return {};
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_string(std::string name, char short_name, std::string* out, std::string value_name, std::string help) {
  Flag f{std::move(name), short_name, Flag::Kind::string, std::move(value_name), std::move(help), {}};
  f.set = [out](const std::string& v) -> Status {
    *out = v;
    return {};
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_int(std::string name, char short_name, int* out, std::string value_name, std::string help) {
  Flag f{std::move(name), short_name, Flag::Kind::integer, std::move(value_name), std::move(help), {}};
  std::string n = f.name;
  f.set = [out, n](const std::string& v) -> Status {
    auto i = parse_int<int>(v);
    if (!i) return make_error("invalid value ", quote(v), " for flag -", n, ": parse error");
    *out = *i;
    return {};
  };
  flags_.push_back(std::move(f));
}

void FlagSet::add_list(std::string name, char short_name, std::vector<std::string>* out, std::string value_name,
                       std::string help) {
  Flag f{std::move(name), short_name, Flag::Kind::list, std::move(value_name), std::move(help), {}};
  f.set = [out](const std::string& v) -> Status {
    out->push_back(v);
    return {};
  };
  flags_.push_back(std::move(f));
}

const FlagSet::Flag* FlagSet::find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
    if (f.short_name && name.size() == 1 && name[0] == f.short_name) return &f;
  }
  return nullptr;
}

Result<std::vector<std::string>> FlagSet::parse(const std::vector<std::string>& args, bool stop_at_positional,
                                                bool* help) {
  std::vector<std::string> positional;
  *help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (stop_at_positional && !positional.empty()) {
      positional.push_back(a);
      continue;
    }
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional.push_back(a);
      continue;
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (name == "h" || name == "help") {
      *help = true;
      return positional;
    }
    const Flag* f = find(name);
    if (!f) return make_error("flag provided but not defined: -", name);
    if (f->kind == Flag::Kind::boolean) {
      BERTH_TRY(f->set(has_value ? value : "true"));
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return make_error("flag needs an argument: -", name);
      value = args[++i];
    }
    BERTH_TRY(f->set(value));
  }
  return positional;
}

std::string FlagSet::usage() const {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const auto& f : flags_) {
    std::string left = "--" + f.name;
    if (f.short_name) left += cat(", -", f.short_name);
    if (!f.value_name.empty()) left += " " + f.value_name;
    width = std::max(width, left.size());
    rows.emplace_back(left, f.help);
  }
  rows.emplace_back("--help, -h", "show help");
  width = std::max<size_t>(width, 10);
  std::string out;
  for (const auto& [l, h] : rows) out += cat("   ", l, std::string(width - l.size() + 3, ' '), h, "\n");
  return out;
}

}  // namespace berth::cli
