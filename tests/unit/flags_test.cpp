// FlagSet: the command-line grammar runc's callers use (Go's flag package
// as extended by urfave/cli), and parse_go_bool.
#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/flags.hpp"

using berth::cli::FlagSet;
using berth::cli::parse_go_bool;

namespace {

using Args = std::vector<std::string>;

// A list of arguments that doctest can print when a comparison fails.
struct Pos {
  Args v;
  Pos(std::initializer_list<std::string> l) : v(l) {}
  explicit Pos(Args a) : v(std::move(a)) {}
  bool operator==(const Pos&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Pos& p) {
  os << "[";
  for (size_t i = 0; i < p.v.size(); ++i) os << (i ? ", \"" : "\"") << p.v[i] << "\"";
  return os << "]";
}

// A flag set shaped like `create`: a string with a short alias, two
// booleans, an int and a repeatable list.
struct Fixture {
  std::string bundle = "unset";
  std::string pid_file;
  bool detach = false;
  bool no_pivot = false;
  int preserve_fds = -7;
  std::vector<std::string> env;
  FlagSet flags;

  Fixture() {
    flags.add_string("bundle", 'b', &bundle, "DIR", "path to the bundle");
    flags.add_string("pid-file", 0, &pid_file, "FILE", "write the pid here");
    flags.add_bool("detach", 'd', &detach, "detach");
    flags.add_bool("no-pivot", 0, &no_pivot, "do not pivot_root");
    flags.add_int("preserve-fds", 0, &preserve_fds, "N", "pass N extra fds");
    flags.add_list("env", 'e', &env, "NAME=VALUE", "set a variable");
  }

  // Parses and requires success; returns the positional arguments.
  Pos ok(const Args& args, bool stop_at_positional = false) {
    bool help = true;  // parse must reset it
    auto r = flags.parse(args, stop_at_positional, &help);
    INFO("error: ", r ? std::string() : r.error().message());
    REQUIRE(r.ok());
    CHECK_FALSE(help);
    return Pos(*r);
  }

  // Parses and requires failure; returns the message.
  std::string error(const Args& args, bool stop_at_positional = false) {
    bool help = false;
    auto r = flags.parse(args, stop_at_positional, &help);
    REQUIRE_FALSE(r.ok());
    return r.error().message();
  }
};

}  // namespace

TEST_CASE("flags: --name value") {
  Fixture f;
  CHECK(f.ok({"--bundle", "/b", "c1"}) == Pos{"c1"});
  CHECK(f.bundle == "/b");
}

TEST_CASE("flags: --name=value") {
  Fixture f;
  CHECK(f.ok({"--bundle=/b", "c1"}) == Pos{"c1"});
  CHECK(f.bundle == "/b");
}

TEST_CASE("flags: a value may itself contain =") {
  Fixture f;
  f.ok({"--env=A=1"});
  CHECK(Pos(f.env) == Pos{"A=1"});
}

TEST_CASE("flags: --name= sets an empty value") {
  Fixture f;
  f.ok({"--bundle="});
  CHECK(f.bundle.empty());
}

TEST_CASE("flags: single-dash long names") {
  Fixture f;
  CHECK(f.ok({"-bundle", "/b", "-pid-file=/p", "-no-pivot", "c1"}) == Pos{"c1"});
  CHECK(f.bundle == "/b");
  CHECK(f.pid_file == "/p");
  CHECK(f.no_pivot);
}

TEST_CASE("flags: short aliases") {
  Fixture f;
  CHECK(f.ok({"-b", "dir", "-d", "c1"}) == Pos{"c1"});
  CHECK(f.bundle == "dir");
  CHECK(f.detach);
}

TEST_CASE("flags: short alias with = and with two dashes") {
  Fixture f;
  f.ok({"-b=dir1"});
  CHECK(f.bundle == "dir1");
  f.ok({"--b", "dir2"});
  CHECK(f.bundle == "dir2");
}

TEST_CASE("flags: a boolean alone is true and takes no value") {
  Fixture f;
  // "c1" right after the boolean is positional, not its value.
  CHECK(f.ok({"--detach", "c1"}) == Pos{"c1"});
  CHECK(f.detach);
}

TEST_CASE("flags: booleans with an explicit value") {
  Fixture f;
  f.detach = true;
  f.ok({"--detach=false"});
  CHECK_FALSE(f.detach);
  f.ok({"-d=true"});
  CHECK(f.detach);
  f.ok({"-detach=0"});
  CHECK_FALSE(f.detach);
  f.ok({"--no-pivot=T"});
  CHECK(f.no_pivot);
}

TEST_CASE("flags: a bad boolean value is an error naming the flag") {
  Fixture f;
  CHECK(f.error({"--detach=yes"}) == "invalid boolean value \"yes\" for flag -detach");
}

TEST_CASE("flags: integers") {
  Fixture f;
  f.ok({"--preserve-fds", "3"});
  CHECK(f.preserve_fds == 3);
  f.ok({"--preserve-fds=0"});
  CHECK(f.preserve_fds == 0);
  f.ok({"--preserve-fds", "-2"});  // a value that looks like a flag is still the value
  CHECK(f.preserve_fds == -2);
}

TEST_CASE("flags: a bad integer is an error naming the flag") {
  Fixture f;
  CHECK(f.error({"--preserve-fds", "three"}) == "invalid value \"three\" for flag -preserve-fds: parse error");
  CHECK(f.error({"--preserve-fds=3x"}) == "invalid value \"3x\" for flag -preserve-fds: parse error");
  CHECK(f.error({"--preserve-fds="}) == "invalid value \"\" for flag -preserve-fds: parse error");
  CHECK(f.preserve_fds == -7);  // untouched by the failed attempts
}

TEST_CASE("flags: a string value may start with a dash") {
  Fixture f;
  CHECK(f.ok({"--bundle", "-odd", "c1"}) == Pos{"c1"});
  CHECK(f.bundle == "-odd");
}

TEST_CASE("flags: add_list accumulates every occurrence in order") {
  Fixture f;
  f.ok({"-e", "A=1", "--env", "B=2", "--env=C=3", "-env", "D=4"});
  CHECK(Pos(f.env) == Pos{"A=1", "B=2", "C=3", "D=4"});
}

TEST_CASE("flags: a repeated string flag keeps the last value") {
  Fixture f;
  f.ok({"-b", "one", "--bundle", "two"});
  CHECK(f.bundle == "two");
}

TEST_CASE("flags: -- ends the flags") {
  Fixture f;
  CHECK(f.ok({"-d", "--", "--bundle", "x", "-e"}) == Pos{"--bundle", "x", "-e"});
  CHECK(f.bundle == "unset");
  CHECK(f.env.empty());
  CHECK(f.detach);
}

TEST_CASE("flags: a lone dash is a positional argument") {
  Fixture f;
  CHECK(f.ok({"-", "c1"}) == Pos{"-", "c1"});
}

TEST_CASE("flags: an undefined flag is an error in Go's words") {
  Fixture f;
  CHECK(f.error({"-foo"}) == "flag provided but not defined: -foo");
  CHECK(f.error({"--foo"}) == "flag provided but not defined: -foo");
  CHECK(f.error({"--foo=1"}) == "flag provided but not defined: -foo");
  CHECK(f.error({"-x"}) == "flag provided but not defined: -x");
}

TEST_CASE("flags: a flag at the end without its value") {
  Fixture f;
  CHECK(f.error({"c1", "--bundle"}) == "flag needs an argument: -bundle");
  CHECK(f.error({"-b"}) == "flag needs an argument: -b");
  CHECK(f.error({"--env"}) == "flag needs an argument: -env");
}

TEST_CASE("flags: flags and positionals interleave by default") {
  Fixture f;
  CHECK(f.ok({"c1", "--bundle", "/b", "extra", "-d"}) == Pos{"c1", "extra"});
  CHECK(f.bundle == "/b");
  CHECK(f.detach);
}

TEST_CASE("flags: stop_at_positional keeps everything after the first positional") {
  Fixture f;
  // `kill id -9`: "-9" is the signal, not a flag.
  CHECK(f.ok({"id", "-9"}, true) == Pos{"id", "-9"});
  CHECK(f.ok({"-d", "id", "--bundle", "x", "-e"}, true) == Pos{"id", "--bundle", "x", "-e"});
  CHECK(f.detach);
  CHECK(f.bundle == "unset");
  CHECK(f.env.empty());
}

TEST_CASE("flags: stop_at_positional still parses flags before the first positional") {
  Fixture f;
  CHECK(f.ok({"--bundle", "/b", "-e", "A=1", "exec", "ls"}, true) == Pos{"exec", "ls"});
  CHECK(f.bundle == "/b");
  CHECK(Pos(f.env) == Pos{"A=1"});
}

TEST_CASE("flags: stop_at_positional keeps a -- that follows a positional") {
  // Once flags have stopped, "--" is an ordinary argument for whoever parses
  // the rest (Go's flag.Parse leaves it in Args()). berth-runtime parses its
  // global flags this way and hands the rest to the command, so
  // `berth-runtime kill -- -weird-id` must reach `kill` with the "--".
  Fixture f;
  CHECK(f.ok({"kill", "--", "-weird-id"}, true) == Pos{"kill", "--", "-weird-id"});
}

TEST_CASE("flags: -h and --help set help and stop parsing") {
  for (const char* h : {"-h", "--help", "-help", "--h"}) {
    INFO("flag: ", h);
    Fixture f;
    bool help = false;
    auto r = f.flags.parse({"c1", h, "--bundle", "x", "--undefined"}, false, &help);
    REQUIRE(r.ok());
    CHECK(help);
    CHECK(f.bundle == "unset");  // nothing after the help flag was applied
  }
}

TEST_CASE("flags: help resets to false on a parse without it") {
  Fixture f;
  bool help = true;
  auto r = f.flags.parse({"c1"}, false, &help);
  REQUIRE(r.ok());
  CHECK_FALSE(help);
}

TEST_CASE("flags: with stop_at_positional, -h after a positional is an argument") {
  Fixture f;
  bool help = false;
  auto r = f.flags.parse({"id", "-h"}, true, &help);
  REQUIRE(r.ok());
  CHECK_FALSE(help);
  CHECK(Pos(*r) == Pos{"id", "-h"});
}

TEST_CASE("flags: no arguments give no positionals") {
  Fixture f;
  CHECK(f.ok({}).v.empty());
  CHECK(f.ok({}, true).v.empty());
}

TEST_CASE("flags: usage lists every flag with its alias, value name and help") {
  Fixture f;
  std::string u = f.flags.usage();
  CHECK(u.find("--bundle, -b DIR") != std::string::npos);
  CHECK(u.find("path to the bundle") != std::string::npos);
  CHECK(u.find("--no-pivot") != std::string::npos);
  CHECK(u.find("--preserve-fds N") != std::string::npos);
  CHECK(u.find("--help, -h") != std::string::npos);
  // One flag a line: six flags plus help.
  CHECK(std::count(u.begin(), u.end(), '\n') == 7);
}

TEST_CASE("parse_go_bool accepts Go's spellings") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    INFO("value: ", t);
    CHECK(parse_go_bool(t) == std::optional<bool>(true));
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    INFO("value: ", f);
    CHECK(parse_go_bool(f) == std::optional<bool>(false));
  }
}

TEST_CASE("parse_go_bool rejects everything else") {
  for (const char* bad : {"", "yes", "no", "on", "tRUE", "2", " true", "true "}) {
    INFO("value: \"", bad, "\"");
    CHECK_FALSE(parse_go_bool(bad).has_value());
  }
}
