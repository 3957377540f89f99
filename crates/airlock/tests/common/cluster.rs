//! A throw-away PostgreSQL cluster of one test's own: `initdb` into a
//! temporary directory with password authentication, listening only on
//! 127.0.0.1 at a free port, stopped and removed on drop. The machine's
//! PostgreSQL trusts local connections, so this is how tests prove that the
//! gateway really authenticates to a target (SCRAM-SHA-256, MD5) and speaks
//! TLS to it.
//!
//! PostgreSQL refuses to run as root; when the tests do, the cluster's
//! programs run as the `postgres` OS user, which owns the directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::free_port;

/// Password of the cluster's `postgres` superuser.
pub const SUPERUSER_PASSWORD: &str = "cluster-superuser-pw";

/// How a cluster is set up before it starts.
pub struct ClusterOptions<'a> {
    /// Method for initdb's default rules (`scram-sha-256` or `md5`); also
    /// the method of the admin's unix-socket rule.
    pub auth: &'a str,
    /// `password_encryption` for roles created later.
    pub password_encryption: &'a str,
    /// `pg_hba.conf` lines for TCP clients (the gateway).
    pub hba: &'a [&'a str],
    /// PEM files (certificate, key) to serve TLS with.
    pub tls: Option<(&'a Path, &'a Path)>,
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub port: u16,
    bindir: PathBuf,
    as_postgres: bool,
    running: bool,
}

impl Cluster {
    pub fn start(options: &ClusterOptions) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cluster = Cluster {
            port: 0,
            bindir: bindir(),
            as_postgres: running_as_root(),
            running: false,
            dir,
        };
        let data = cluster.data_dir();
        let sock = cluster.socket_dir();
        std::fs::create_dir(&sock).expect("socket dir");
        let pwfile = cluster.dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{SUPERUSER_PASSWORD}\n")).expect("pwfile");
        if let Some((cert, key)) = options.tls {
            std::fs::copy(cert, cluster.dir.path().join("server.crt")).expect("copy cert");
            std::fs::copy(key, cluster.dir.path().join("server.key")).expect("copy key");
            set_mode(&cluster.dir.path().join("server.key"), 0o600);
        }
        cluster.hand_over();

        let out = cluster
            .pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .arg(format!("--auth={}", options.auth))
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("run initdb");
        check(&out, "initdb");

        let mut conf = format!(
            "\n# airlock test cluster\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             password_encryption = '{}'\n\
             shared_buffers = 16MB\nmax_connections = 30\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
             log_connections = on\n",
            sock.display(),
            options.password_encryption
        );
        if options.tls.is_some() {
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                cluster.dir.path().join("server.crt").display(),
                cluster.dir.path().join("server.key").display()
            ));
        }
        append(&data.join("postgresql.conf"), &conf);
        let mut hba = format!("local all all {}\n", options.auth);
        for line in options.hba {
            hba.push_str(line);
            hba.push('\n');
        }
        std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        cluster.hand_over();

        // A free port can be taken between choosing and binding it: retry.
        for attempt in 0..3 {
            cluster.port = free_port();
            append(
                &data.join("postgresql.conf"),
                &format!("port = {}\n", cluster.port),
            );
            let out = cluster
                .pg_command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.log_file())
                .args(["-w", "-t", "30", "start"])
                .output()
                .expect("run pg_ctl start");
            if out.status.success() {
                cluster.running = true;
                return cluster;
            }
            let log = cluster.log();
            if attempt == 2 || !log.contains("could not bind") {
                panic!(
                    "pg_ctl start failed: {}{}\n--- server log ---\n{log}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        unreachable!()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// Runs SQL as the superuser over the cluster's unix socket, with the
    /// superuser's password; returns trimmed stdout.
    pub fn admin(&self, sql: &str) -> String {
        let out = Command::new(self.bindir.join("psql"))
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", "postgres"])
            .arg("-h")
            .arg(self.socket_dir())
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .env("PGPASSWORD", SUPERUSER_PASSWORD)
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "admin SQL failed: {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A program of the PostgreSQL installation, as the user that may run
    /// it, in a directory that user can enter.
    fn pg_command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.current_dir(self.dir.path()).stdin(Stdio::null());
        cmd
    }

    /// Gives everything in the directory to the `postgres` user when the
    /// cluster runs as that user.
    fn hand_over(&self) {
        if self.as_postgres {
            let out = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(self.dir.path())
                .output()
                .expect("run chown");
            check(&out, "chown");
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .pg_command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "-t", "30", "stop"])
                .output();
        }
        if std::thread::panicking() {
            eprintln!("--- test cluster log ---\n{}", self.log());
        }
    }
}

/// Certificates made with the `openssl` command line, in a directory of
/// their own: a CA and a server certificate it signed for `localhost` and
/// `127.0.0.1`.
pub struct TestPki {
    pub dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        let pki = TestPki {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        pki.ca("ca");
        pki.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ]);
        std::fs::write(
            pki.path("server.ext"),
            "basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature\n\
             extendedKeyUsage = serverAuth\n\
             subjectAltName = DNS:localhost, IP:127.0.0.1\n",
        )
        .expect("write extensions");
        pki.openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
        pki
    }

    /// A self-signed CA `name.crt` / `name.key`.
    pub fn ca(&self, name: &str) -> PathBuf {
        let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            &format!("/CN=Airlock test {name}"),
        ]);
        self.path(&crt)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("openssl must be installed");
        check(&out, &format!("openssl {}", args[0]));
    }
}

fn bindir() -> PathBuf {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    [
        from_pg_config,
        Some(PathBuf::from("/usr/lib/postgresql/15/bin")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
    .unwrap_or_else(|| PathBuf::from("/usr/local/bin"))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("append to {}: {e}", path.display()));
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}
