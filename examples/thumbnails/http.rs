//! The HTTP side of `thumbnails --http`, included by `thumbnails.rs` with
//! `#[path = "thumbnails/http.rs"] mod http;`:
//!
//! - a small server on a loopback port (the `tiny_http` crate) that serves
//!   the images of one folder by `GET /NAME` and stores what is sent by
//!   `PUT /NAME` in another, each answer after a chosen latency;
//! - the blocking client (the `ureq` crate) that the download and upload
//!   stages call.

use std::fs;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use socket2::SockRef;
use tiny_http::{Method, Request, Response};

/// The largest body either side takes: an image or a thumbnail.
const MAX_BODY: u64 = 256 << 20;

/// What a file name keeps unescaped in a URL: letters, digits and `-._~`.
const IN_URL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A server on `127.0.0.1`, and the flag that tells its loop that it was
/// stopped on purpose.
pub struct Server {
    inner: tiny_http::Server,
    stopping: AtomicBool,
}

impl Server {
    /// Listens on `127.0.0.1:port`; port 0 lets the system pick a free one.
    pub fn bind(port: u16) -> Result<Server, String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let cannot = |e: io::Error| format!("cannot start a server at http://{addr}/: {e}");
        let listener = TcpListener::bind(addr).map_err(cannot)?;
        // `tiny_http` writes an answer's headers and its body separately.
        // With Nagle's algorithm the body then waits for the client to
        // acknowledge the headers, and the client delays that acknowledgement
        // (40 ms on Linux): every GET would take 40 ms more than the
        // latency asked for. Connections accepted from a listening socket
        // with TCP_NODELAY have it too (on Linux and the BSDs).
        SockRef::from(&listener)
            .set_tcp_nodelay(true)
            .map_err(cannot)?;
        let inner = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| cannot(io::Error::other(e)))?;
        Ok(Server {
            inner,
            stopping: AtomicBool::new(false),
        })
    }

    /// `http://127.0.0.1:PORT/`, with the port it got.
    pub fn url(&self) -> String {
        let addr = self
            .inner
            .server_addr()
            .to_ip()
            .expect("listens on an IP address");
        format!("http://{addr}/")
    }

    // ANCHOR: serve
    /// Answers requests until [`stop`](Self::stop): `GET /NAME` with the file
    /// `NAME` of `input`, `PUT /NAME` by writing the body to the file `NAME`
    /// of `output`. Each answer waits `latency` first, as a distant server's
    /// would. Returns once every answer has been sent.
    ///
    /// Every request is answered on a thread of its own, and that is what
    /// lets more workers help: `tiny_http` reads requests on its own threads
    /// but hands them over one at a time, so answering in this loop would
    /// make the workers' requests wait their `latency` one after another.
    /// On their own threads, the waits overlap, as they do on a real server
    /// far away. A thread per request is enough here: each download or
    /// upload worker waits for its answer before it sends another request,
    /// so about as many threads are alive at once as there are such
    /// workers. The scope joins them all.
    pub fn serve(&self, input: &Path, output: &Path, latency: Duration) {
        thread::scope(|scope| {
            loop {
                match self.inner.recv() {
                    Ok(request) => {
                        scope.spawn(move || answer(request, input, output, latency));
                    }
                    // `stop` wakes `recv` with an error.
                    Err(_) if self.stopping.load(Ordering::Acquire) => break,
                    // A connection could not be accepted (e.g. too many
                    // open files). `tiny_http` then stops listening, so
                    // the requests that follow are refused and fail their
                    // items, naming the URL; the answers in flight go out.
                    Err(e) => eprintln!("server at {}: {e}", self.url()),
                }
            }
        });
    }
    // ANCHOR_END: serve

    /// Makes [`serve`](Self::serve) return once the answers in flight are
    /// sent. `tiny_http`'s own threads end when the server is dropped.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.inner.unblock();
    }
}

/// Stops a [`Server`] when dropped, also during a panic.
pub struct StopOnDrop<'a>(pub &'a Server);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Answers one request; see [`Server::serve`].
fn answer(mut request: Request, input: &Path, output: &Path, latency: Duration) {
    thread::sleep(latency);
    let (status, body) = match file_name(request.url()) {
        Err(message) => (400, message.into_bytes()),
        Ok(name) => match request.method() {
            Method::Get => match fs::read(input.join(&name)) {
                Ok(bytes) => (200, bytes),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    (404, format!("no image {name}").into_bytes())
                }
                Err(e) => (500, format!("cannot read {name}: {e}").into_bytes()),
            },
            Method::Put => {
                let mut bytes = Vec::new();
                let read = request
                    .as_reader()
                    .take(MAX_BODY + 1)
                    .read_to_end(&mut bytes);
                match read {
                    Err(e) => (400, format!("cannot read the body: {e}").into_bytes()),
                    Ok(_) if bytes.len() as u64 > MAX_BODY => {
                        (413, format!("larger than {MAX_BODY} bytes").into_bytes())
                    }
                    Ok(_) => match fs::write(output.join(&name), &bytes) {
                        Ok(()) => (201, Vec::new()),
                        Err(e) => (500, format!("cannot write {name}: {e}").into_bytes()),
                    },
                }
            }
            _ => (405, b"only GET and PUT".to_vec()),
        },
    };
    // A client that went away cannot be told; nothing else to do.
    let _ = request.respond(Response::from_data(body).with_status_code(status));
}

/// The file name in a request's path (`/a%20b.png` -> `a b.png`). Refuses
/// anything that is not one plain name, such as `/../secret` or `/a/b`.
fn file_name(url: &str) -> Result<String, String> {
    let path = url.strip_prefix('/').unwrap_or(url);
    let name = percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| format!("{url}: not UTF-8"))?;
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0', '?']) {
        return Err(format!("{url}: not a file name"));
    }
    Ok(name.into_owned())
}

/// A blocking HTTP client for one server, shared by the workers of the
/// download and upload stages.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    /// A client of the server at `base` (`http://host:port/`).
    pub fn new(base: String) -> Client {
        let agent = ureq::Agent::config_builder()
            // Answers other than 2xx are read here, to show the server's
            // reason in the error.
            .http_status_as_error(false)
            // A new connection for every request. With connections kept
            // open and reused, about one run in three with 3/4/5 workers
            // lost an answer near its start: the server had written it,
            // and the client waited for it until the timeout below. On
            // loopback a connection costs well under a millisecond.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            // A server that stops answering fails the item instead of
            // hanging the run.
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Client { agent, base }
    }

    /// The URL of file `name` on the server.
    pub fn url(&self, name: &str) -> String {
        format!("{}{}", self.base, utf8_percent_encode(name, IN_URL))
    }

    /// `GET`s file `name`; an error names the URL.
    pub fn get(&self, name: &str) -> Result<Vec<u8>, String> {
        let url = self.url(name);
        let fail = |e: ureq::Error| format!("GET {url}: {e}");
        let mut response = self.agent.get(&url).call().map_err(fail)?;
        if response.status() != 200 {
            return Err(format!("GET {url}: {}", refusal(&mut response)));
        }
        response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(fail)
    }

    /// `PUT`s `body` as file `name`; an error names the URL.
    pub fn put(&self, name: &str, body: &[u8]) -> Result<(), String> {
        let url = self.url(name);
        let mut response = self
            .agent
            .put(&url)
            .send(body)
            .map_err(|e| format!("PUT {url}: {e}"))?;
        if response.status() != 201 {
            return Err(format!("PUT {url}: {}", refusal(&mut response)));
        }
        Ok(())
    }
}

/// `404 Not Found (no image a.png)`: the status of an answer the client did
/// not expect, and the server's reason if it gave one.
fn refusal(response: &mut ureq::http::Response<ureq::Body>) -> String {
    let status = response.status();
    let reason = response
        .body_mut()
        .with_config()
        .limit(1024)
        .read_to_string()
        .unwrap_or_default();
    if reason.is_empty() {
        status.to_string()
    } else {
        format!("{status} ({reason})")
    }
}
