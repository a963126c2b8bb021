//! A PostgreSQL server for tests and benchmarks (`benches/postgres.rs` includes this file):
//! Debian's `initdb` + `pg_ctl` in a temp dir, as `nobody` when running as root.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL server in a temp dir on a free loopback port, stopped on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    as_nobody: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `initdb` and `pg_ctl`, if the
/// Debian package `postgresql` is installed.
pub fn find_server_binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// [`find_server_binaries`], or a failure naming the package.
fn server_binaries() -> PathBuf {
    match find_server_binaries() {
        Some(bin) => bin,
        None => panic!(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install the Debian \
             package `postgresql` (apt-get install postgresql; .ci/run does)"
        ),
    }
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("its address").port()
}

impl Postgres {
    /// A new, initialised and stopped cluster in a temp dir (owned by `nobody` when the
    /// test runs as root: PostgreSQL refuses to run as root).
    fn init() -> Postgres {
        let bin = server_binaries();
        let dir = tempfile::tempdir().expect("a temp dir for PostgreSQL");
        // SAFETY: geteuid has no preconditions.
        let as_nobody = unsafe { libc::geteuid() } == 0;
        if as_nobody {
            chown_nobody(dir.path());
        }
        let pg = Postgres { dir, bin, port: free_port(), as_nobody };
        let data = pg.data_dir();
        pg.run("initdb", &["-D", path_str(&data), "-U", "sigbox", "--auth=trust", "--no-sync"]);
        pg
    }

    /// Initialises and starts a new server (trust authentication on 127.0.0.1 only, user
    /// `sigbox`, no Unix socket).
    pub fn start() -> Postgres {
        let pg = Postgres::init();
        pg.pg_ctl_start();
        pg
    }

    /// Like [`Postgres::start`], but serving TLS only (`ssl = on`, `hostssl` in pg_hba, so a
    /// connection without TLS is refused) with a certificate for IP 127.0.0.1 issued by a
    /// new CA (made with the `openssl` CLI); returns the server and the CA's PEM path.
    pub fn start_tls() -> (Postgres, PathBuf) {
        let pg = Postgres::init();
        let data = pg.data_dir();
        let certs = pg.dir.path().join("certs");
        std::fs::create_dir(&certs).expect("certs dir");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&certs)
                .output()
                .expect("running openssl (Debian package `openssl`)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=sigbox test database CA",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ]
            .concat(),
        );
        std::fs::write(certs.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("ext file");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ]);
        for name in ["server.crt", "server.key"] {
            let to = data.join(name);
            std::fs::copy(certs.join(name), &to).expect("copying the server certificate");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            if pg.as_nobody {
                chown_nobody(&to);
            }
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text).expect("postgresql.conf");
        std::fs::write(data.join("pg_hba.conf"), "hostssl all all 127.0.0.1/32 trust\n")
            .expect("pg_hba");
        pg.pg_ctl_start();
        (pg, certs.join("ca.pem"))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a server binary (as `nobody` when root), asserting success.
    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir(self.dir.path());
        let out = command.output().unwrap_or_else(|e| panic!("running {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
    }

    /// Starts the server (again) and waits until it accepts connections (`pg_ctl -w`).
    pub fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=on \
             -c synchronous_commit=on -c max_connections=200",
            self.port
        );
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &["-D", path_str(&data), "-l", path_str(&log), "-w", "-o", &options, "start"],
        );
    }

    /// `pg_ctl stop -m immediate`: the server dies at once, as in a crash.
    pub fn stop_immediate(&self) {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", path_str(&data), "-m", "immediate", "-w", "stop"]);
    }

    /// The URL for `--storage`.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The URL of database `db` on this server.
    pub fn url_of(&self, db: &str) -> String {
        format!("postgres://sigbox@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `db` (`createdb`).
    pub fn create_database(&self, db: &str) {
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "sigbox", db]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        let pid_file = data.join("postmaster.pid");
        if pid_file.exists() {
            let program = self.bin.join("pg_ctl");
            let mut command = if self.as_nobody {
                let mut c = Command::new("setpriv");
                c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]).arg(&program);
                c
            } else {
                Command::new(&program)
            };
            let _ = command.args(["-D", path_str(&data), "-m", "immediate", "-w", "stop"]).output();
        }
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

fn chown_nobody(path: &Path) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "nobody"]).output().expect("running id");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("the uid/gid of nobody")
    };
    std::os::unix::fs::chown(path, Some(id("-u")), Some(id("-g"))).expect("chown to nobody");
}
