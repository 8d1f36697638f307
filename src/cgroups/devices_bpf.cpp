#include "cgroups/devices_bpf.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace berth::cgroups {

namespace {

// Registers of the program (the kernel passes the context in R1).
constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_u32(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, R1, off, 0); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov64_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | op | BPF_K, dst, 0, off, imm); }
bpf_insn jmp_reg(uint8_t op, uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_JMP | op | BPF_X, dst, src, off, 0); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t access_bits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

// One rule: a block of checks that jump past the block on mismatch, then
// set R0 and exit on match.
std::vector<bpf_insn> rule_block(const DeviceRule& r) {
  constexpr int16_t kNext = -1;  // placeholder, patched below
  std::vector<bpf_insn> b;
  if (r.type == 'c' || r.type == 'b')
    b.push_back(jmp_imm(BPF_JNE, R2, r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, kNext));
  int32_t acc = access_bits(r.access);
  constexpr int32_t kAll = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  if (acc != kAll) {
    b.push_back(mov32_reg(R1, R3));
    if (r.allow) {
      // Every requested bit must be granted: (req & acc) == req.
      b.push_back(alu32_imm(BPF_AND, R1, acc));
      b.push_back(jmp_reg(BPF_JNE, R1, R3, kNext));
    } else {
      // Any requested bit that is denied: (req & acc) != 0.
      b.push_back(alu32_imm(BPF_AND, R1, acc));
      b.push_back(jmp_imm(BPF_JEQ, R1, 0, kNext));
    }
  }
  if (r.major) b.push_back(jmp_imm(BPF_JNE, R4, static_cast<int32_t>(*r.major), kNext));
  if (r.minor) b.push_back(jmp_imm(BPF_JNE, R5, static_cast<int32_t>(*r.minor), kNext));
  b.push_back(mov64_imm(R0, r.allow ? 1 : 0));
  b.push_back(exit_insn());
  for (size_t i = 0; i < b.size(); ++i)
    if (b[i].off == kNext && (b[i].code & 0x07) == BPF_JMP) b[i].off = static_cast<int16_t>(b.size() - i - 1);
  return b;
}

}  // namespace

std::vector<DeviceRule> default_device_rules() {
  auto dev = [](char type, std::optional<uint32_t> major, std::optional<uint32_t> minor, const char* access) {
    return DeviceRule{true, type, major, minor, access};
  };
  return {
      dev('c', {}, {}, "m"),   dev('b', {}, {}, "m"),     dev('c', 1, 3, "rwm"),   dev('c', 1, 8, "rwm"),
      dev('c', 1, 7, "rwm"),   dev('c', 5, 0, "rwm"),     dev('c', 1, 5, "rwm"),   dev('c', 1, 9, "rwm"),
      dev('c', 136, {}, "rwm"), dev('c', 5, 2, "rwm"),    dev('c', 10, 200, "rwm"),
  };
}

std::vector<bpf_insn> compile_device_filter(const std::vector<DeviceRule>& rules) {
  // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
  std::vector<bpf_insn> prog = {
      load_u32(R2, 0), alu32_imm(BPF_AND, R2, 0xffff),  // device type
      load_u32(R3, 0), alu32_imm(BPF_RSH, R3, 16),      // requested access
      load_u32(R4, 4),                                  // major
      load_u32(R5, 8),                                  // minor
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = rule_block(*it);
    prog.insert(prog.end(), block.begin(), block.end());
    // A rule with no checks matches everything: what follows is dead code,
    // which the verifier rejects.
    if (block.size() == 2) return prog;
  }
  prog.push_back(mov64_imm(R0, 0));
  prog.push_back(exit_insn());
  return prog;
}

namespace {

Result<std::vector<uint32_t>> attached_programs(int cgroup_fd) {
  std::vector<uint32_t> ids(64);
  bpf_attr q{};
  q.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  q.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (::syscall(SYS_bpf, BPF_PROG_QUERY, &q, sizeof q) < 0) return sys_error("query device cgroup programs");
  ids.resize(q.query.prog_cnt);
  return ids;
}

}  // namespace

Status replace_device_filter(int cgroup_fd, const std::vector<DeviceRule>& rules) {
  auto old = attached_programs(cgroup_fd);
  if (!old) return std::move(old).error();
  BERTH_TRY(attach_device_filter(cgroup_fd, rules));
  for (uint32_t id : *old) {
    bpf_attr get{};
    get.prog_id = id;
    UniqueFd prog(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &get, sizeof get)));
    if (!prog) {
      if (errno == ENOENT) continue;  // already gone
      return sys_error("open device cgroup program ", id);
    }
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cgroup_fd);
    detach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (::syscall(SYS_bpf, BPF_PROG_DETACH, &detach, sizeof detach) < 0) return sys_error("detach device cgroup program ", id);
  }
  return {};
}

Status attach_device_filter(int cgroup_fd, const std::vector<DeviceRule>& rules) {
  auto prog = compile_device_filter(rules);
  static const char kLicense[] = "Apache-2.0";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(prog.data());
  load.insn_cnt = static_cast<uint32_t>(prog.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);
  UniqueFd prog_fd(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
  if (!prog_fd) {
    auto err = sys_error("load device cgroup program");
    // Ask again with the verifier's log, only to explain the failure.
    static char log_buf[16384];
    load.log_buf = reinterpret_cast<uint64_t>(log_buf);
    load.log_size = sizeof log_buf;
    load.log_level = 1;
    UniqueFd retry(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load)));
    if (!retry && log_buf[0]) err.wrap(cat("verifier: ", std::string(log_buf).substr(0, 400)));
    return err;
  }
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0) return sys_error("attach device cgroup program");
  return {};
}

}  // namespace berth::cgroups
