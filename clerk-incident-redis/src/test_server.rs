//! [`TestServer`]: a private `redis-server` for tests and drills, never the system's.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to install when `redis-server` is missing.
pub const INSTALL_HINT: &str = "redis-server is not installed: run scripts/test (it installs it), \
     or install it yourself (apt-get install redis-server, brew install redis, dnf install redis), \
     or point REDIS_SERVER at the binary";

/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a test server did not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum TestServerError {
    /// `redis-server` is not on the `PATH` (nor at `REDIS_SERVER`): [`INSTALL_HINT`].
    NotInstalled,
    /// It did not start; the message holds the end of its log.
    Failed(String),
}

impl std::fmt::Display for TestServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestServerError::NotInstalled => f.write_str(INSTALL_HINT),
            TestServerError::Failed(detail) => write!(f, "redis-server did not start: {detail}"),
        }
    }
}

impl std::error::Error for TestServerError {}

/// A `redis-server` of its own, on 127.0.0.1 and a free port, with its files in a temporary
/// directory, persisting nothing; killed and removed on drop.
///
/// ```no_run
/// use clerk_incident_redis::TestServer;
///
/// let server = TestServer::start().unwrap_or_else(|error| panic!("{error}"));
/// let url = server.url(); // redis://127.0.0.1:<port>/0
/// # drop(url);
/// ```
pub struct TestServer {
    binary: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    password: Option<String>,
    child: Option<Child>,
}

impl TestServer {
    /// Starts a server without a password.
    ///
    /// # Errors
    ///
    /// [`TestServerError::NotInstalled`] with the install hint, or
    /// [`TestServerError::Failed`] with the end of its log.
    pub fn start() -> Result<Self, TestServerError> {
        Self::start_with_password(None)
    }

    /// Starts a server whose default user needs `password`.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with_password(password: Option<&str>) -> Result<Self, TestServerError> {
        let binary = find_binary().ok_or(TestServerError::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("clerk-incident-redis-")
            .tempdir()
            .map_err(|error| TestServerError::Failed(format!("no temporary directory: {error}")))?;
        let mut server = Self {
            binary,
            dir,
            port: 0,
            password: password.map(str::to_owned),
            child: None,
        };
        // A free port can be taken by someone else between the probe and the start: try again.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port()?;
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(error) => last = error,
            }
        }
        Err(TestServerError::Failed(last))
    }

    /// The URL to reach it, with the password when there is one.
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it at once (SIGKILL): what a crashed or partitioned Redis looks like.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty (it persists nothing).
    ///
    /// # Errors
    ///
    /// [`TestServerError::Failed`] when it does not start.
    pub fn restart(&mut self) -> Result<(), TestServerError> {
        self.kill();
        self.spawn().map_err(TestServerError::Failed)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut command = Command::new(&self.binary);
        command
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log_path())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.arg("--requirepass").arg(password);
        }
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot run {}: {error}", self.binary.display()))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "exited with {status}: {}",
                    log_tail(&self.log_path())
                ));
            }
            if self.answers_ping() {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no answer within {START_TIMEOUT:?}: {}",
                    log_tail(&self.log_path())
                ));
            }
            // Polling for readiness, bounded by the deadline above.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// True when this server answers on the port: asked for its directory, it names this
    /// server's own (another test's server may have taken a port that was free a moment ago).
    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut ask = String::new();
        if let Some(password) = &self.password {
            ask.push_str("AUTH ");
            ask.push_str(password);
            ask.push_str("\r\n");
        }
        ask.push_str("CONFIG GET dir\r\n");
        if stream.write_all(ask.as_bytes()).is_err() {
            return false;
        }
        let dir = self.dir.path().to_string_lossy().into_owned();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        for _ in 0..8 {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return false,
                Ok(_) if line.starts_with('-') => return false,
                Ok(_) if line.trim_end() == dir => return true,
                Ok(_) => {}
            }
        }
        false
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .field("password", &self.password.as_ref().map(|_| "(hidden)"))
            .finish_non_exhaustive()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn find_binary() -> Option<PathBuf> {
    find_binary_in(std::env::var_os("REDIS_SERVER"), std::env::var_os("PATH"))
}

/// `redis_server` when given (and a file), else `redis-server` in a directory of `path`.
fn find_binary_in(redis_server: Option<OsString>, path: Option<OsString>) -> Option<PathBuf> {
    if let Some(binary) = redis_server {
        let binary = PathBuf::from(binary);
        return binary.is_file().then_some(binary);
    }
    std::env::split_paths(&path?)
        .map(|dir| dir.join("redis-server"))
        .find(|binary| binary.is_file())
}

fn free_port() -> Result<u16, TestServerError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|error| TestServerError::Failed(format!("no free port: {error}")))
}

fn log_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_server_names_the_install() {
        assert_eq!(
            find_binary_in(Some("/nonexistent/redis-server".into()), None),
            None
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(find_binary_in(None, Some(empty.path().into())), None);
        let hint = TestServerError::NotInstalled.to_string();
        assert!(hint.contains("apt-get install redis-server"), "{hint}");
        assert!(hint.contains("scripts/test"), "{hint}");
    }
}
