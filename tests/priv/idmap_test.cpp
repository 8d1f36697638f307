// Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP) on real containers.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "test_support.hpp"

using namespace berth::test;

namespace {

json mapping(int container_id, int host_id, int size) {
  return {{"containerID", container_id}, {"hostID", host_id}, {"size", size}};
}

uid_t owner(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_uid;
}

}  // namespace

TEST_CASE("an idmapped bind mount shows the source's ids through its mappings, both ways") {
  Bundle b;
  TempDir src;
  REQUIRE(berth::write_file(src / "file", "data", true));
  REQUIRE(::chown((src / "file").c_str(), 1000, 1000) == 0);
  REQUIRE(::chown(src.path().c_str(), 1000, 1000) == 0);
  REQUIRE(::chmod(src.path().c_str(), 0755) == 0);  // mkdtemp made it 0700
  // On the source filesystem 1000 is what the container sees as 0.
  b.config["mounts"].push_back({{"destination", "/data"},
                                {"type", "bind"},
                                {"source", src.path()},
                                {"options", {"rbind", "idmap"}},
                                {"uidMappings", {mapping(1000, 0, 1)}},
                                {"gidMappings", {mapping(1000, 0, 1)}}});
  b.config["mounts"].push_back(
      {{"destination", "/plain"}, {"type", "bind"}, {"source", src.path()}, {"options", {"rbind"}}});
  b.sh("stat -c '%u:%g' /data/file /plain/file; touch /data/made-inside && stat -c '%u:%g' /data/made-inside");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  INFO("stderr: ", r.err);
  CHECK(r.out == "0:0\n1000:1000\n0:0\n");
  // What the container's root wrote lands on disk as 1000.
  CHECK(owner(src / "made-inside") == 1000);
}

TEST_CASE("idmap without mappings of its own takes the container's user namespace mappings") {
  Bundle b;
  TempDir src;
  REQUIRE(berth::write_file(src / "file", "data", true));  // owned by root on disk
  REQUIRE(::chmod(src.path().c_str(), 0755) == 0);
  ::chmod(b.path().c_str(), 0711);
  REQUIRE(berth::test::run({"chown", "-R", "100000:100000", b.rootfs()}).status == 0);
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = {mapping(0, 100000, 65536)};
  b.config["linux"]["gidMappings"] = {mapping(0, 100000, 65536)};
  // sysfs needs a network namespace owned by the user namespace: bind it instead.
  for (auto& m : b.config["mounts"])
    if (m["destination"] == "/sys") m = {{"destination", "/sys"}, {"type", "bind"}, {"source", "/sys"},
                                         {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
  b.config["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", src.path()}, {"options", {"rbind", "idmap"}}});
  b.config["mounts"].push_back(
      {{"destination", "/plain"}, {"type", "bind"}, {"source", src.path()}, {"options", {"rbind"}}});
  b.sh("stat -c '%u' /data/file /plain/file");
  auto r = b.run_container();
  REQUIRE_MESSAGE(r.status == 0, r.err);
  // Through the idmap the host's root files belong to the container's root;
  // without it they belong to nobody (unmapped).
  CHECK(r.out == "0\n65534\n");
}

TEST_CASE("idmapped mounts are refused where they cannot apply, naming the field") {
  Bundle b;
  b.config["mounts"].push_back({{"destination", "/t"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"idmap"}}});
  auto r = b.run_container();
  CHECK(r.status == 1);
  CHECK(contains(r.err, ".options: idmapped mounts must be bind mounts"));

  Bundle c;
  c.config["mounts"].push_back({{"destination", "/d"}, {"type", "bind"}, {"source", "/tmp"}, {"options", {"rbind", "idmap"}}});
  r = c.run_container();
  CHECK(r.status == 1);
  CHECK(contains(r.err, ".options: idmap without its own uidMappings needs linux.uidMappings"));
  CHECK(count_entries(c.root()) == 0);
}

TEST_CASE("features reports idmapped mounts and their options") {
  auto r = run({runtime_binary(), "features"});
  REQUIRE(r.status == 0);
  auto f = json::parse(r.out);
  CHECK(f["linux"]["mountExtensions"]["idmap"]["enabled"] == true);
  auto opts = f["mountOptions"];
  CHECK(std::find(opts.begin(), opts.end(), "idmap") != opts.end());
  CHECK(std::find(opts.begin(), opts.end(), "ridmap") != opts.end());
}
