// docker-style flag parsing; see args.hpp.
#include "client/args.hpp"

#include "common/strings.hpp"

namespace berth::client {

void Args::add_bool(std::string name, char short_name, bool* out, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.short_name = short_name;
  f.kind = Flag::Kind::boolean;
  f.b = out;
  f.help = std::move(help);
  flags_.push_back(std::move(f));
}

void Args::add_string(std::string name, char short_name, std::string* out, std::string value_name, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.short_name = short_name;
  f.kind = Flag::Kind::string;
  f.s = out;
  f.value_name = std::move(value_name);
  f.help = std::move(help);
  flags_.push_back(std::move(f));
}

void Args::add_list(std::string name, char short_name, std::vector<std::string>* out, std::string value_name,
                    std::string help) {
  Flag f;
  f.name = std::move(name);
  f.short_name = short_name;
  f.kind = Flag::Kind::list;
  f.l = out;
  f.value_name = std::move(value_name);
  f.help = std::move(help);
  flags_.push_back(std::move(f));
}

const Args::Flag* Args::find_long(const std::string& name) const {
  for (const auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

const Args::Flag* Args::find_short(char c) const {
  for (const auto& f : flags_)
    if (f.short_name == c) return &f;
  return nullptr;
}

Status Args::set(const Flag& f, const std::string& value) {
  switch (f.kind) {
    case Flag::Kind::boolean:
      if (value == "true" || value == "1" || value == "t" || value == "T" || value == "TRUE" || value == "True") {
        *f.b = true;
      } else if (value == "false" || value == "0" || value == "f" || value == "F" || value == "FALSE" ||
                 value == "False") {
        *f.b = false;
      } else {
        return make_error("invalid argument \"", value, "\" for \"--", f.name, "\" flag: strconv.ParseBool: parsing ",
                          quote(value), ": invalid syntax");
      }
      return {};
    case Flag::Kind::string:
      *f.s = value;
      return {};
    case Flag::Kind::list:
      f.l->push_back(value);
      return {};
  }
  return {};
}

Result<std::vector<std::string>> Args::parse(const std::vector<std::string>& args, bool interspersed,
                                             bool* help) const {
  std::vector<std::string> positional;
  *help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional.push_back(a);
      if (!interspersed) {
        positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
        break;
      }
      continue;
    }
    if (a[1] == '-') {
      std::string name = a.substr(2);
      std::string value;
      bool has_value = false;
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
      if (name == "help") {
        *help = true;
        return positional;
      }
      const Flag* f = find_long(name);
      if (!f) return make_error("unknown flag: --", name);
      if (f->kind == Flag::Kind::boolean) {
        BERTH_TRY(set(*f, has_value ? value : "true"));
        continue;
      }
      if (!has_value) {
        if (i + 1 >= args.size()) return make_error("flag needs an argument: --", name);
        value = args[++i];
      }
      BERTH_TRY(set(*f, value));
      continue;
    }
    // A group of short flags: booleans until one takes a value, which is
    // the rest of the word or the next argument.
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      if (c == 'h' && !find_short('h')) {
        *help = true;
        return positional;
      }
      const Flag* f = find_short(c);
      if (!f) return make_error("unknown shorthand flag: '", c, "' in ", a);
      if (f->kind == Flag::Kind::boolean) {
        if (j + 1 < a.size() && a[j + 1] == '=') {
          BERTH_TRY(set(*f, a.substr(j + 2)));
          break;
        }
        BERTH_TRY(set(*f, "true"));
        continue;
      }
      std::string value;
      if (j + 1 < a.size()) {
        value = a.substr(a[j + 1] == '=' ? j + 2 : j + 1);
      } else {
        if (i + 1 >= args.size()) return make_error("flag needs an argument: '", c, "' in -", c);
        value = args[++i];
      }
      BERTH_TRY(set(*f, value));
      break;
    }
  }
  return positional;
}

std::string Args::usage() const {
  std::vector<std::pair<std::string, std::string>> lines;
  size_t width = 0;
  for (const auto& f : flags_) {
    std::string left = f.short_name ? cat("  -", f.short_name, ", --", f.name) : cat("      --", f.name);
    if (f.kind == Flag::Kind::string) left += " " + f.value_name;
    if (f.kind == Flag::Kind::list) left += " " + f.value_name;
    width = std::max(width, left.size());
    lines.emplace_back(left, f.help);
  }
  lines.emplace_back("  -h, --help", "Print usage");
  std::string out;
  for (const auto& [l, h] : lines) out += l + std::string(width + 3 - std::min(width + 2, l.size()), ' ') + h + "\n";
  return out;
}

}  // namespace berth::client
