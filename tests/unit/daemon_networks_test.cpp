// berthd's network plumbing that needs no kernel: docker's PortBindings as
// mappings, and attachments surviving their JSON round trip (that is how a
// new berthd undoes what an old one made).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "daemon/networks.hpp"

using namespace berth;
using namespace berth::daemon;
using nlohmann::json;

TEST_CASE("daemon networks: PortBindings become port mappings; bad ones are named") {
  auto m = port_bindings(json::parse(R"({"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                          "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                                          "443": [{"HostIp": "0.0.0.0", "HostPort": "8443"}]})"));
  REQUIRE(m.ok());
  REQUIRE(m->size() == 3);
  // nlohmann orders keys: "443", "53/udp", "80/tcp".
  CHECK((*m)[0].container_port == 443);
  CHECK((*m)[0].host_port == 8443);
  CHECK_FALSE((*m)[0].host_ip.has_value());
  CHECK((*m)[1].proto == net::Proto::udp);
  CHECK((*m)[1].host_ip == std::optional<std::string>("127.0.0.1"));
  CHECK((*m)[1].host_port == 0);  // berthd picks one
  CHECK((*m)[2].proto == net::Proto::tcp);
  CHECK((*m)[2].host_port == 8080);

  CHECK(port_bindings(json::object())->empty());
  CHECK(port_bindings(json())->empty());
  CHECK(port_bindings(json::parse(R"({"x/tcp": []})")).error().message() ==
        "invalid port \"x/tcp\": want PORT[/tcp|udp]");
  CHECK(port_bindings(json::parse(R"({"80/sctp": []})")).error().message() ==
        "invalid port \"80/sctp\": want PORT[/tcp|udp]");
  CHECK(port_bindings(json::parse(R"({"80/tcp": [{"HostPort": "99999"}]})")).error().message() ==
        "invalid host port \"99999\" for port 80/tcp");
  CHECK(port_bindings(json::parse(R"({"80/tcp": [{"HostIp": "::1", "HostPort": "1"}]})")).error().message() ==
        "invalid host address \"::1\" for port 80/tcp");
}

TEST_CASE("daemon networks: an attachment survives its JSON round trip") {
  Attachment a;
  a.container_id = "c1";
  a.network_id = "n1";
  a.network_name = "forum";
  a.owns_netns = false;
  a.ifname = "eth1";
  a.netns_path = "/run/berth/netns/c1";
  a.host_veth = "vethc100000";
  a.address = *net::Ipv4Net::parse("172.18.0.5/16");
  a.gateway = *net::Ipv4::parse("172.18.0.1");
  a.names = {"web", "c1", "api"};
  net::PortMapping p;
  p.proto = net::Proto::udp;
  p.host_ip = "127.0.0.1";
  p.host_port = 5353;
  p.container_port = 53;
  a.ports = {p};
  auto back = Attachment::from_json(a.to_json());
  REQUIRE(back.ok());
  CHECK(back->container_id == "c1");
  CHECK(back->network_id == "n1");
  CHECK(back->network_name == "forum");
  CHECK_FALSE(back->owns_netns);
  CHECK(back->ifname == "eth1");
  CHECK(back->netns_path == a.netns_path);
  CHECK(back->host_veth == a.host_veth);
  CHECK(back->address == a.address);
  CHECK(back->gateway == a.gateway);
  CHECK(back->names == a.names);
  REQUIRE(back->ports.size() == 1);
  CHECK(back->ports[0] == p);

  // A container keeps a list; one bad entry does not hide the others, and
  // the single object of the first networking berthd still reads.
  auto list = attachments_of(json::array({a.to_json(), json{{"Address", "bad"}}, a.to_json()}));
  CHECK(list.size() == 2);
  CHECK(attachments_of(a.to_json()).size() == 1);
  CHECK(attachments_of(json()).empty());

  CHECK_FALSE(Attachment::from_json(json()).ok());
  CHECK_FALSE(Attachment::from_json(json{{"Address", "nonsense"}}).ok());
}
