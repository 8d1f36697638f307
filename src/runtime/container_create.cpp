#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups/devices_bpf.hpp"
#include "common/fs.hpp"
#include "common/trace.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "common/unix_socket.hpp"
#include "runtime/container_internal.hpp"
#include "runtime/hooks.hpp"
#include "runtime/plan.hpp"
#include "runtime/resources.hpp"
#include "runtime/rootfs.hpp"
#include "runtime/userns.hpp"
#include "runtime/seccomp.hpp"
#include "runtime/spec.hpp"

namespace berth::runtime {

PreparedContainer::~PreparedContainer() {
  if (committed_) return;
  init.child.kill_and_reap();
  if (have_cgroup) {
    if (auto st = cgroup.destroy(true); !st) log::warn(st.error().message());
  }
  // state_dir removes itself (it was created by this attempt).
}

void PreparedContainer::commit() {
  committed_ = true;
  init.child.release();
  state_dir.commit();
}

namespace {

// The socket the pty master goes to: the caller's --console-socket, or with
// `own` a socketpair whose other end is returned in `peer`.
Result<UniqueFd> open_console(const CreateOptions& opts, bool own, UniqueFd* peer) {
  if (own) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("create console socket");
    peer->reset(sv[1]);
    return UniqueFd(sv[0]);
  }
  if (opts.console_socket.empty()) return UniqueFd();
  auto sock = connect_unix(opts.console_socket);
  if (!sock) return std::move(sock).error().wrap("open console socket");
  return sock;
}

}  // namespace

std::vector<cgroups::DeviceRule> device_rules(const Spec& spec) {
  std::vector<cgroups::DeviceRule> rules;
  if (spec.linux_->resources) {
    for (const auto& r : spec.linux_->resources->devices) {
      cgroups::DeviceRule d;
      d.allow = r.allow;
      d.type = r.type.empty() ? 'a' : r.type[0];
      if (r.major && *r.major >= 0) d.major = static_cast<uint32_t>(*r.major);
      if (r.minor && *r.minor >= 0) d.minor = static_cast<uint32_t>(*r.minor);
      d.access = r.access;
      rules.push_back(d);
    }
  }
  auto defaults = cgroups::default_device_rules();
  rules.insert(rules.end(), defaults.begin(), defaults.end());
  return rules;
}

Status write_pid_file(const std::string& path, pid_t pid) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  auto dfd = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!dfd) return std::move(dfd).error().wrap("write pid file");
  BERTH_TRY_CTX(write_file_atomic(dfd->get(), path.substr(path.rfind('/') + 1), cat(pid), 0644), "write pid file");
  return {};
}

Result<std::unique_ptr<PreparedContainer>> prepare_container(const CreateOptions& opts, StartMode mode,
                                                             bool own_console) {
  BERTH_TRY(validate_id(opts.id));
  trace::Phase parse("parse");
  std::string config_text;
  auto spec = load_spec(opts.bundle, &config_text);
  if (!spec) return std::move(spec).error();
  const Process& proc = *spec->process;
  if (proc.terminal && opts.console_socket.empty() && !own_console)
    return make_error("cannot allocate tty if berth-runtime will detach without setting console socket");
  if (!proc.terminal && !opts.console_socket.empty())
    return make_error("cannot use console socket if berth-runtime will not detach or allocate tty");

  PlanOptions popts;
  popts.no_pivot = opts.no_pivot;
  popts.no_new_keyring = opts.no_new_keyring;
  popts.id = opts.id;
  auto plan = make_plan(*spec, opts.bundle, popts);
  if (!plan) return std::move(plan).error();
  for (const auto& e : opts.extra_env) {
    std::string name = e.substr(0, e.find('=') + 1);
    auto& env = plan->process.env;
    std::erase_if(env, [&](const std::string& v) { return v.compare(0, name.size(), name) == 0; });
    env.push_back(e);
  }
  parse.end();
  if (spec->linux_->seccomp) {
    trace::Phase compile("seccomp_compile");
    auto program = compile_seccomp(*spec->linux_->seccomp, seccomp_cache_dir(opts.root));
    if (!program) return std::move(program).error();
    plan->process.seccomp = std::move(*program);
  }
  struct stat st{};
  if (::stat(plan->rootfs.rootfs.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return make_error("rootfs (", quote(plan->rootfs.rootfs), ") does not exist");

  auto mountpoint = cgroups::unified_mountpoint();
  if (!mountpoint) return std::move(mountpoint).error();
  cgroups::Resources limits;
  if (spec->linux_->resources) {
    limits = to_cgroup_resources(*spec->linux_->resources);
    BERTH_TRY(check_resources_available(*mountpoint, *spec->linux_->resources, limits));
  }
  auto own = cgroups::own_cgroup();
  if (!own) return std::move(own).error();

  auto dir = StateDir::create(opts.root, opts.id);
  if (!dir) return std::move(dir).error();
  auto c = std::make_unique<PreparedContainer>(std::move(*dir));
  // exec and delete need the config as it was at create, whatever happens
  // to the bundle afterwards.
  BERTH_TRY_CTX(write_file_atomic(c->state_dir.fd(), kSavedConfig, config_text, 0600), "save config");

  if (mode == StartMode::exec_fifo) {
    if (::mkfifoat(c->state_dir.fd(), "exec.fifo", 0622) < 0) return sys_error("create exec fifo");
    // mkfifo applies the umask; the init opens it after dropping privileges.
    if (::fchmodat(c->state_dir.fd(), "exec.fifo", 0622, 0) < 0) return sys_error("chmod exec fifo");
  }

  trace::Phase cgroup_phase("cgroup");
  std::string cg_path = cgroups::resolve_cgroup_path(spec->linux_->cgroups_path, opts.id, *own);
  auto cg = cgroups::Cgroup::create(*mountpoint, cg_path);
  if (!cg) return std::move(cg).error();
  c->cgroup = std::move(*cg);
  c->have_cgroup = true;
  plan->rootfs.cgroup_dir = c->cgroup.dir();
  auto cgroup_fd = c->cgroup.open_dir();
  if (!cgroup_fd) return std::move(cgroup_fd).error();
  BERTH_TRY(cgroups::attach_device_filter(cgroup_fd->get(), device_rules(*spec)));
  // Limits are in place before the init exists, so it never runs unlimited.
  if (auto needed = cgroups::controllers_needed(limits); !needed.empty()) {
    BERTH_TRY(cgroups::enable_controllers(*mountpoint, c->cgroup.path(), needed));
    BERTH_TRY_CTX(cgroups::apply(cgroup_fd->get(), limits), "apply cgroup limits");
  }

  cgroup_phase.end();
  auto console = open_console(opts, proc.terminal && own_console, &c->console_peer);
  if (!console) return std::move(console).error();

  // Idmapped mounts: the detached trees are made here and held open until
  // the init has attached them (it inherits the fds).
  std::vector<UniqueFd> idmapped_trees;
  for (auto& m : plan->rootfs.mounts) {
    if (m.idmap_uid_map.empty()) continue;
    auto ns = make_user_namespace(m.idmap_uid_map, m.idmap_gid_map);
    if (!ns) return std::move(ns).error().wrap(cat("mount ", m.source, " on ", m.destination));
    auto tree = make_bind_tree(linux_kernel(), m, ns->get());
    if (!tree) return std::move(tree).error();
    m.tree_fd = tree->get();
    idmapped_trees.push_back(std::move(*tree));
  }

  // The init gets its own handle on the state directory: the locked one
  // stays with the runtime.
  UniqueFd fifo_dir;
  if (mode == StartMode::exec_fifo) {
    auto fd = open_file(c->state_dir.path(), O_PATH | O_DIRECTORY);
    if (!fd) return std::move(fd).error();
    fifo_dir = std::move(*fd);
  }

  SpawnOptions sopts;
  sopts.plan = &*plan;
  sopts.cgroup = &c->cgroup;
  sopts.cgroup_fd = cgroup_fd->get();
  sopts.console_fd = console->get();
  sopts.state_dirfd = fifo_dir.get();
  sopts.preserve_fds = opts.preserve_fds;
  sopts.log_fd = opts.log_fd;
  sopts.log_format = opts.log_format;
  // The state that hooks and seccomp agents see; the init's pid is filled in when known.
  auto state_for = [&](pid_t pid, ContainerStatus status) {
    ContainerState s;
    s.oci_version = spec->oci_version;
    s.id = opts.id;
    s.pid = pid;
    s.bundle = opts.bundle;
    s.rootfs = plan->rootfs.rootfs;
    s.annotations = spec->annotations;
    return state_json(s, status, "", false);
  };
  if (plan->process.seccomp && plan->process.seccomp->notify) {
    sopts.on_seccomp_fd = [&](int listener, pid_t pid) {
      return send_to_seccomp_listener(*plan->process.seccomp, listener, pid, state_for(pid, ContainerStatus::creating));
    };
  }
  if (plan->runtime_hooks || !plan->create_container_hooks.empty() || !plan->start_container_hooks.empty()) {
    sopts.on_hooks = [&](pid_t pid) -> Result<std::string> {
      std::string creating = state_for(pid, ContainerStatus::creating);
      BERTH_TRY(run_hooks(spec->hooks.prestart, "prestart", creating));
      BERTH_TRY(run_hooks(spec->hooks.create_runtime, "createRuntime", creating));
      return creating + '\0' + state_for(pid, ContainerStatus::created);
    };
  }
  if (log::enabled(log::Level::debug))
    log::debug(cat("container ", opts.id, ": cgroup ", c->cgroup.path(), ", clone flags ", hex(static_cast<uint32_t>(plan->ns.clone_flags)),
                   plan->ns.intermediate ? ", through an intermediate process" : ""));
  auto init = spawn_init(sopts);
  if (!init) return std::move(init).error();
  c->init = std::move(*init);
  if (log::enabled(log::Level::debug)) log::debug(cat("container ", opts.id, ": init ", c->init.pid, " is ready"));
  if (!opts.pidfd_socket.empty()) BERTH_TRY(send_pidfd(opts.pidfd_socket, c->init.pidfd.get()));

  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  ContainerState& s = c->state;
  s.oci_version = spec->oci_version;
  s.id = opts.id;
  s.pid = c->init.pid;
  s.pid_start_time = c->init.start_time;
  s.bundle = opts.bundle;
  s.rootfs = plan->rootfs.rootfs;
  s.created = rfc3339_nano(now);
  s.annotations = spec->annotations;
  s.cgroup_mount = *mountpoint;
  s.cgroup_path = c->cgroup.path();
  s.own_pid_ns = plan->ns.pid_new;
  return c;
}

Status create_container(const CreateOptions& opts) {
  auto c = prepare_container(opts, StartMode::exec_fifo, false);
  if (!c) return std::move(c).error();
  trace::Phase state("state");
  if (!opts.pid_file.empty()) BERTH_TRY(write_pid_file(opts.pid_file, (*c)->init.pid));
  BERTH_TRY_CTX((*c)->state_dir.save((*c)->state), "save container state");
  (*c)->commit();
  return {};
}

std::optional<Spec> saved_spec(const StateDir& dir) {
  auto text = read_file_at(dir.fd(), kSavedConfig);
  if (!text) return std::nullopt;
  auto spec = parse_spec(*text);
  if (!spec) return std::nullopt;
  return std::move(*spec);
}

void run_poststart_hooks(const Spec& spec, const ContainerState& st) {
  if (spec.hooks.poststart.empty()) return;
  run_hooks_warn(spec.hooks.poststart, "poststart", state_json(st, ContainerStatus::running, "", false));
}

Status destroy_container(StateDir& dir, const ContainerState& st) {
  auto spec = saved_spec(dir);
  if (!st.cgroup_path.empty()) {
    auto cg = cgroups::Cgroup::at(st.cgroup_mount, st.cgroup_path);
    BERTH_TRY(cg.destroy());
  }
  BERTH_TRY(dir.remove());
  if (spec && !spec->hooks.poststop.empty())
    run_hooks_warn(spec->hooks.poststop, "poststop", state_json(st, ContainerStatus::stopped, "", false));
  return {};
}

}  // namespace berth::runtime
