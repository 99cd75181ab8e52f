// A throwaway PKI for the tests and benches that run TLS (a redis-server with --tls-port): a CA, a server
// certificate for 127.0.0.1 / localhost, a client certificate for mutual TLS, and a second CA that signed
// none of them (what a client with the wrong trust store has). Made with the `openssl` CLI (Debian's
// openssl package) in a directory of the caller's; EC P-256 keys, so it takes a fraction of a second.
//
//   auto pki = sa::bench::make_tls_pki(dir);   // throws std::runtime_error with openssl's output
//   args += {"--tls-cert-file", pki.server_cert, "--tls-key-file", pki.server_key, "--tls-ca-cert-file", pki.ca_cert};
#pragma once

#include "bench/child_process.hpp"

#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace sa::bench {

struct tls_pki {
  std::string ca_cert, ca_key;          ///< the CA that signed the server and client certificates
  std::string server_cert, server_key;  ///< CN localhost; SANs IP:127.0.0.1, DNS:localhost; serverAuth
  std::string client_cert, client_key;  ///< CN sa-test-client; clientAuth
  std::string other_ca_cert;            ///< a CA that signed nothing here
};

namespace detail {

/// Runs the openssl CLI with `args` (output to `log`); throws with the log's content when it fails.
inline void openssl(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv{find_in_path("openssl")};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = start_child(argv, log);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in{log};
    std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("openssl " + args.front() + " failed: " + out);
  }
}

} // namespace detail

/// Writes the PKI's files into `dir` (which must exist) and returns their paths. Valid for two days.
inline tls_pki make_tls_pki(const std::string& dir) {
  tls_pki p;
  auto at = [&](const std::string& name) { return dir + "/" + name; };
  p.ca_cert = at("ca.crt");
  p.ca_key = at("ca.key");
  p.server_cert = at("server.crt");
  p.server_key = at("server.key");
  p.client_cert = at("client.crt");
  p.client_key = at("client.key");
  p.other_ca_cert = at("other-ca.crt");
  auto log = at("openssl.log");
  const std::vector<std::string> ec_key{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto self_signed_ca = [&](const std::string& cert, const std::string& key, const std::string& cn) {
    std::vector<std::string> a{"req", "-x509"};
    a.insert(a.end(), ec_key.begin(), ec_key.end());
    a.insert(a.end(), {"-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn, "-addext",
                       "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    detail::openssl(a, log);
  };
  auto signed_leaf = [&](const std::string& cert, const std::string& key, const std::string& cn,
                         const std::string& extensions, const std::string& name) {
    auto csr = at(name + ".csr");
    auto ext = at(name + ".ext");
    std::ofstream{ext} << extensions;
    std::vector<std::string> a{"req", "-new"};
    a.insert(a.end(), ec_key.begin(), ec_key.end());
    a.insert(a.end(), {"-keyout", key, "-out", csr, "-subj", "/CN=" + cn});
    detail::openssl(a, log);
    detail::openssl({"x509", "-req", "-in", csr, "-CA", p.ca_cert, "-CAkey", p.ca_key, "-CAcreateserial",
                     "-CAserial", at("ca.srl"), "-out", cert, "-days", "2", "-sha256", "-extfile", ext},
                    log);
  };
  self_signed_ca(p.ca_cert, p.ca_key, "sa-test-ca");
  self_signed_ca(p.other_ca_cert, at("other-ca.key"), "sa-other-ca");
  signed_leaf(p.server_cert, p.server_key, "localhost",
              "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n"
              "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
              "server");
  signed_leaf(p.client_cert, p.client_key, "sa-test-client",
              "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n", "client");
  return p;
}

} // namespace sa::bench
