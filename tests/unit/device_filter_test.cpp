// compile_device_filter (cgroups/devices_bpf.hpp). Loading a BPF program
// needs privileges, so the test carries a small interpreter for exactly the
// instructions the compiler emits and checks what the program decides for
// concrete device requests, plus the structural rules of the kernel verifier
// (in-bounds forward jumps, no unreachable instructions).
#include "cgroups/devices_bpf.hpp"

#include <doctest/doctest.h>
#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using berth::cgroups::DeviceRule;

enum class Type : uint32_t { block = BPF_DEVCG_DEV_BLOCK, chr = BPF_DEVCG_DEV_CHAR };

constexpr uint32_t R = BPF_DEVCG_ACC_READ;
constexpr uint32_t W = BPF_DEVCG_ACC_WRITE;
constexpr uint32_t M = BPF_DEVCG_ACC_MKNOD;

struct Request {
  Type type;
  uint32_t access;
  uint32_t major;
  uint32_t minor;
};

// Runs a BPF_PROG_TYPE_CGROUP_DEVICE program on one request; returns R0
// (1 allows, 0 denies). Anything outside the expected subset throws, so an
// unexpected instruction fails the test instead of being misread.
class Interpreter {
 public:
  explicit Interpreter(const std::vector<bpf_insn>& prog) : prog_(prog) {}

  int64_t run(const Request& req) const {
    // struct bpf_cgroup_dev_ctx { __u32 access_type; __u32 major; __u32 minor; }
    const uint32_t ctx[3] = {(req.access << 16) | static_cast<uint32_t>(req.type), req.major, req.minor};
    uint64_t reg[11] = {};
    bool initialised[11] = {};
    bool is_ctx[11] = {};
    is_ctx[1] = initialised[1] = true;  // the kernel passes the context pointer in R1
    auto get_reg = [&](int r) {
      if (!initialised[r] || is_ctx[r]) throw std::runtime_error("read of uninitialised or pointer register");
      return reg[r];
    };
    auto set_reg = [&](int r, uint64_t v) {
      if (r == 10) throw std::runtime_error("write to the frame pointer");
      reg[r] = v;
      initialised[r] = true;
      is_ctx[r] = false;
    };
    size_t pc = 0;
    for (size_t steps = 0; steps < 100000; ++steps) {
      if (pc >= prog_.size()) throw std::runtime_error("fell off the end of the program");
      const bpf_insn& in = prog_[pc];
      const int dst = in.dst_reg, src = in.src_reg;
      const uint8_t cls = BPF_CLASS(in.code);
      if (dst > 10 || src > 10) throw std::runtime_error("register out of range");
      ++pc;
      if (cls == BPF_LDX) {
        if (in.code != (BPF_LDX | BPF_MEM | BPF_W)) throw std::runtime_error("unexpected LDX");
        if (!is_ctx[src]) throw std::runtime_error("load through a register that is not the context");
        if (in.off < 0 || in.off > 8 || in.off % 4 != 0) throw std::runtime_error("context load out of bounds");
        set_reg(dst, ctx[in.off / 4]);  // 32-bit loads zero-extend
      } else if (cls == BPF_ALU) {
        // 32-bit ALU: operate on the low half, zero-extend the result.
        const uint8_t op = BPF_OP(in.code);
        if (BPF_SRC(in.code) == BPF_K && op == BPF_AND) {
          set_reg(dst, static_cast<uint32_t>(get_reg(dst)) & static_cast<uint32_t>(in.imm));
        } else if (BPF_SRC(in.code) == BPF_K && op == BPF_RSH) {
          if (in.imm < 0 || in.imm >= 32) throw std::runtime_error("bad shift");
          set_reg(dst, static_cast<uint32_t>(get_reg(dst)) >> in.imm);
        } else if (BPF_SRC(in.code) == BPF_X && op == BPF_MOV) {
          set_reg(dst, static_cast<uint32_t>(get_reg(src)));
        } else {
          throw std::runtime_error("unexpected ALU instruction");
        }
      } else if (cls == BPF_ALU64) {
        if (in.code != (BPF_ALU64 | BPF_MOV | BPF_K)) throw std::runtime_error("unexpected ALU64 instruction");
        set_reg(dst, static_cast<uint64_t>(static_cast<int64_t>(in.imm)));  // imm is sign-extended
      } else if (cls == BPF_JMP) {
        const uint8_t op = BPF_OP(in.code);
        if (op == BPF_EXIT) {
          if (!initialised[0]) throw std::runtime_error("exit with R0 unset");
          return static_cast<int64_t>(reg[0]);
        }
        if (op != BPF_JEQ && op != BPF_JNE) throw std::runtime_error("unexpected jump");
        // 64-bit comparison; an immediate is sign-extended.
        uint64_t lhs = get_reg(dst);
        uint64_t rhs = BPF_SRC(in.code) == BPF_K ? static_cast<uint64_t>(static_cast<int64_t>(in.imm)) : get_reg(src);
        bool taken = op == BPF_JEQ ? lhs == rhs : lhs != rhs;
        if (taken) pc = static_cast<size_t>(static_cast<int64_t>(pc) + in.off);
      } else {
        throw std::runtime_error("unexpected instruction class");
      }
    }
    throw std::runtime_error("program does not terminate");
  }

  bool allows(const Request& req) const { return run(req) == 1; }

 private:
  const std::vector<bpf_insn>& prog_;
};

// Checks what the verifier checks structurally: every jump lands inside the
// program and goes forward, the last instruction is an exit, and every
// instruction is reachable.
std::string structure_problem(const std::vector<bpf_insn>& prog) {
  if (prog.empty()) return "empty program";
  std::vector<bool> reachable(prog.size(), false);
  reachable[0] = true;
  for (size_t i = 0; i < prog.size(); ++i) {
    const bpf_insn& in = prog[i];
    bool is_jump = BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) != BPF_EXIT;
    bool is_exit = BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) == BPF_EXIT;
    if (is_jump) {
      int64_t target = static_cast<int64_t>(i) + 1 + in.off;
      if (target < 0 || target >= static_cast<int64_t>(prog.size()))
        return "jump at " + std::to_string(i) + " lands outside the program (" + std::to_string(target) + ")";
      if (in.off < 0) return "backward jump at " + std::to_string(i);
      if (reachable[i]) reachable[static_cast<size_t>(target)] = true;
    }
    if (!is_exit && reachable[i]) {
      if (i + 1 >= prog.size()) return "last instruction is not an exit";
      reachable[i + 1] = true;
    }
  }
  for (size_t i = 0; i < prog.size(); ++i)
    if (!reachable[i]) return "unreachable instruction at " + std::to_string(i);
  return "";
}

DeviceRule rule(bool allow, char type, std::optional<uint32_t> major, std::optional<uint32_t> minor,
                const std::string& access) {
  return DeviceRule{allow, type, major, minor, access};
}

// Compiles, checks the structure, and returns the decision for a request.
bool decide(const std::vector<DeviceRule>& rules, const Request& req) {
  auto prog = berth::cgroups::compile_device_filter(rules);
  std::string problem = structure_problem(prog);
  INFO(problem);
  REQUIRE(problem.empty());
  return Interpreter(prog).allows(req);
}

}  // namespace

TEST_CASE("no rules deny everything") {
  CHECK_FALSE(decide({}, {Type::chr, R, 1, 3}));
  CHECK_FALSE(decide({}, {Type::block, M, 8, 0}));
}

TEST_CASE("an allow-all rule allows every request") {
  std::vector<DeviceRule> rules = {rule(true, 'a', {}, {}, "rwm")};
  CHECK(decide(rules, {Type::chr, R | W | M, 1, 3}));
  CHECK(decide(rules, {Type::block, R, 8, 0}));
  CHECK(decide(rules, {Type::chr, W, 4095, 1048575}));
}

TEST_CASE("a deny-all rule denies every request") {
  std::vector<DeviceRule> rules = {rule(false, 'a', {}, {}, "rwm")};
  CHECK_FALSE(decide(rules, {Type::chr, R, 1, 3}));
  CHECK_FALSE(decide(rules, {Type::block, M, 8, 0}));
}

TEST_CASE("later rules win over earlier ones") {
  std::vector<DeviceRule> allow_then_deny = {rule(true, 'c', 1, 3, "rwm"), rule(false, 'c', 1, 3, "rwm")};
  CHECK_FALSE(decide(allow_then_deny, {Type::chr, R, 1, 3}));
  std::vector<DeviceRule> deny_then_allow = {rule(false, 'a', {}, {}, "rwm"), rule(true, 'c', 1, 3, "rwm")};
  CHECK(decide(deny_then_allow, {Type::chr, R, 1, 3}));
  CHECK_FALSE(decide(deny_then_allow, {Type::chr, R, 1, 5}));
}

TEST_CASE("a deny rule denies a request that asks for any denied bit") {
  // Everything is allowed, then writes to 1:3 are denied.
  std::vector<DeviceRule> rules = {rule(true, 'a', {}, {}, "rwm"), rule(false, 'c', 1, 3, "w")};
  CHECK_FALSE(decide(rules, {Type::chr, W, 1, 3}));
  CHECK_FALSE(decide(rules, {Type::chr, R | W, 1, 3}));
  CHECK(decide(rules, {Type::chr, R, 1, 3}));
  CHECK(decide(rules, {Type::chr, M, 1, 3}));
  CHECK(decide(rules, {Type::chr, W, 1, 5}));
}

TEST_CASE("an allow rule needs every requested bit") {
  std::vector<DeviceRule> rules = {rule(true, 'c', 1, 3, "rw")};
  CHECK(decide(rules, {Type::chr, R, 1, 3}));
  CHECK(decide(rules, {Type::chr, W, 1, 3}));
  CHECK(decide(rules, {Type::chr, R | W, 1, 3}));
  CHECK_FALSE(decide(rules, {Type::chr, M, 1, 3}));
  CHECK_FALSE(decide(rules, {Type::chr, R | M, 1, 3}));
}

TEST_CASE("the rule type must match the device type") {
  std::vector<DeviceRule> chr = {rule(true, 'c', 8, 0, "rwm")};
  CHECK(decide(chr, {Type::chr, R, 8, 0}));
  CHECK_FALSE(decide(chr, {Type::block, R, 8, 0}));
  std::vector<DeviceRule> blk = {rule(true, 'b', 8, 0, "rwm")};
  CHECK(decide(blk, {Type::block, R, 8, 0}));
  CHECK_FALSE(decide(blk, {Type::chr, R, 8, 0}));
}

TEST_CASE("major and minor must both match when given") {
  std::vector<DeviceRule> rules = {rule(true, 'c', 1, 3, "rwm")};
  CHECK(decide(rules, {Type::chr, R, 1, 3}));
  CHECK_FALSE(decide(rules, {Type::chr, R, 1, 4}));
  CHECK_FALSE(decide(rules, {Type::chr, R, 2, 3}));
  CHECK_FALSE(decide(rules, {Type::chr, R, 3, 1}));
}

TEST_CASE("a missing minor is a wildcard") {
  std::vector<DeviceRule> rules = {rule(true, 'c', 136, {}, "rwm")};
  CHECK(decide(rules, {Type::chr, R | W, 136, 0}));
  CHECK(decide(rules, {Type::chr, R | W, 136, 99999}));
  CHECK_FALSE(decide(rules, {Type::chr, R, 137, 0}));
}

TEST_CASE("a missing major is a wildcard") {
  std::vector<DeviceRule> rules = {rule(true, 'b', {}, 0, "r")};
  CHECK(decide(rules, {Type::block, R, 8, 0}));
  CHECK(decide(rules, {Type::block, R, 253, 0}));
  CHECK_FALSE(decide(rules, {Type::block, R, 8, 1}));
}

TEST_CASE("type a matches both character and block devices") {
  std::vector<DeviceRule> rules = {rule(true, 'a', 7, {}, "r")};
  CHECK(decide(rules, {Type::chr, R, 7, 1}));
  CHECK(decide(rules, {Type::block, R, 7, 1}));
  CHECK_FALSE(decide(rules, {Type::block, W, 7, 1}));
}

TEST_CASE("default rules allow /dev/null read-write") {
  auto rules = berth::cgroups::default_device_rules();
  CHECK(decide(rules, {Type::chr, R | W, 1, 3}));
  CHECK(decide(rules, {Type::chr, R, 1, 9}));   // urandom
  CHECK(decide(rules, {Type::chr, R | W, 5, 2}));  // ptmx
  CHECK(decide(rules, {Type::chr, R | W, 136, 4}));  // a pty slave
  CHECK(decide(rules, {Type::chr, R | W, 10, 200}));  // tun
}

TEST_CASE("default rules allow mknod of any node") {
  auto rules = berth::cgroups::default_device_rules();
  CHECK(decide(rules, {Type::chr, M, 99, 99}));
  CHECK(decide(rules, {Type::block, M, 8, 0}));
}

TEST_CASE("default rules do not allow using other devices") {
  auto rules = berth::cgroups::default_device_rules();
  CHECK_FALSE(decide(rules, {Type::block, R, 8, 0}));
  CHECK_FALSE(decide(rules, {Type::block, R | M, 8, 0}));
  CHECK_FALSE(decide(rules, {Type::chr, W, 1, 1}));  // /dev/mem
  CHECK_FALSE(decide(rules, {Type::chr, R, 10, 229}));  // fuse
}

TEST_CASE("config deny-all followed by the default rules keeps the defaults usable") {
  // What a runtime-spec config usually holds, then what berth appends.
  std::vector<DeviceRule> rules = {rule(false, 'a', {}, {}, "rwm")};
  for (auto& r : berth::cgroups::default_device_rules()) rules.push_back(r);
  CHECK(decide(rules, {Type::chr, R | W, 1, 3}));
  CHECK_FALSE(decide(rules, {Type::block, R, 8, 0}));
}

TEST_CASE("an unconditional rule ends compilation: nothing after it") {
  // Rules run last to first, so the allow-all (first) is compiled last and
  // every earlier one is reachable; a trailing unconditional deny must
  // make the earlier rules dead and therefore absent.
  std::vector<DeviceRule> rules = {rule(true, 'c', 1, 3, "rwm"), rule(true, 'b', 8, {}, "r"),
                                   rule(false, 'a', {}, {}, "rwm")};
  auto prog = berth::cgroups::compile_device_filter(rules);
  CHECK(structure_problem(prog).empty());
  // Six context loads, then the unconditional rule: R0 = 0; exit.
  REQUIRE(prog.size() == 8);
  CHECK(prog[6].code == (BPF_ALU64 | BPF_MOV | BPF_K));
  CHECK(prog[6].imm == 0);
  CHECK(prog[7].code == (BPF_JMP | BPF_EXIT));
  CHECK_FALSE(Interpreter(prog).allows({Type::chr, R, 1, 3}));
}

TEST_CASE("an unconditional rule in the middle drops the rules before it") {
  std::vector<DeviceRule> rules = {rule(false, 'c', 1, 3, "rwm"), rule(true, 'a', {}, {}, "rwm"),
                                   rule(false, 'b', 8, 0, "rwm")};
  auto prog = berth::cgroups::compile_device_filter(rules);
  CHECK(structure_problem(prog).empty());
  Interpreter vm(prog);
  CHECK(vm.allows({Type::chr, R, 1, 3}));  // the deny of 1:3 comes before allow-all: overridden
  CHECK_FALSE(vm.allows({Type::block, R, 8, 0}));
  CHECK(vm.allows({Type::block, R, 8, 1}));
}

TEST_CASE("every jump of a large rule set lands inside the program") {
  std::vector<DeviceRule> rules;
  for (uint32_t i = 0; i < 40; ++i) {
    rules.push_back(rule(i % 2 == 0, i % 3 == 0 ? 'c' : 'b', i, i % 5 == 0 ? std::nullopt : std::optional<uint32_t>(i),
                         i % 4 == 0 ? "r" : "rw"));
  }
  auto prog = berth::cgroups::compile_device_filter(rules);
  CHECK(structure_problem(prog) == "");
  CHECK(BPF_CLASS(prog.back().code) == BPF_JMP);
  CHECK(BPF_OP(prog.back().code) == BPF_EXIT);
  Interpreter vm(prog);
  CHECK(vm.allows({Type::chr, R, 0, 0}));        // rule 0: allow c 0:* r
  CHECK_FALSE(vm.allows({Type::chr, W, 0, 0}));  // needs w, rule 0 grants r only
  CHECK_FALSE(vm.allows({Type::block, R, 1, 1}));  // rule 1: deny b 1:1 rw
  CHECK(vm.allows({Type::block, R | W, 2, 2}));  // rule 2: allow b 2:2 rw
}

TEST_CASE("a rule with an empty access string matches nothing") {
  std::vector<DeviceRule> deny_nothing = {rule(true, 'a', {}, {}, "rwm"), rule(false, 'a', {}, {}, "")};
  CHECK(decide(deny_nothing, {Type::chr, R, 1, 3}));
  std::vector<DeviceRule> allow_nothing = {rule(true, 'c', 1, 3, "")};
  CHECK_FALSE(decide(allow_nothing, {Type::chr, R, 1, 3}));
}

// The interpreter and the structure check judge the compiler, so they are
// checked on hand-assembled programs too.
namespace {

bpf_insn raw(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

// "allow if major == 1", written by hand.
std::vector<bpf_insn> major_is_one() {
  return {
      raw(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0),   // R4 = ctx->major
      raw(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 2, 1),   // if R4 != 1 goto deny
      raw(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),  // R0 = 1
      raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      raw(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),  // deny: R0 = 0
      raw(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
}

}  // namespace

TEST_CASE("self-check: the interpreter runs a hand-written program correctly") {
  auto prog = major_is_one();
  CHECK(structure_problem(prog).empty());
  Interpreter vm(prog);
  CHECK(vm.allows({Type::chr, R, 1, 7}));
  CHECK_FALSE(vm.allows({Type::chr, R, 2, 7}));
}

TEST_CASE("self-check: the interpreter rejects instructions outside the subset") {
  auto prog = major_is_one();
  prog[1] = raw(BPF_JMP | BPF_JGT | BPF_K, 4, 0, 2, 1);
  CHECK_THROWS(Interpreter(prog).run({Type::chr, R, 1, 7}));
  auto ldx_from_data = major_is_one();
  ldx_from_data[0] = raw(BPF_LDX | BPF_MEM | BPF_W, 4, 4, 0, 0);  // load through a non-context register
  CHECK_THROWS(Interpreter(ldx_from_data).run({Type::chr, R, 1, 7}));
}

TEST_CASE("self-check: the structure check finds bad jumps and dead code") {
  auto out_of_range = major_is_one();
  out_of_range[1].off = 10;
  CHECK(structure_problem(out_of_range).find("outside the program") != std::string::npos);
  auto dead = major_is_one();
  dead[1] = raw(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);  // no branch: the deny half is unreachable
  CHECK(structure_problem(dead).find("unreachable") != std::string::npos);
  auto no_exit = major_is_one();
  no_exit.pop_back();
  CHECK_FALSE(structure_problem(no_exit).empty());
}
