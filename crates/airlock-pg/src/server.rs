//! The accept loop: one task per client connection, and a clean stop.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use airlock_core::Guard;
use airlock_store::Store;
use airlock_store::writer::Writer;

use crate::admission::ConnectionSlot;
use crate::cancel::CancelRegistry;
use crate::session;
use crate::threads::SessionThreads;

/// What a PostgreSQL listener needs from the rest of the gateway.
pub struct ServerDeps {
    pub guard: Arc<Guard>,
    pub store: Arc<dyn Store>,
    pub writer: Writer,
    /// Holds commands that `review` rules gate.
    pub reviews: Arc<airlock_core::review::Reviews>,
    /// `None` answers `SSLRequest` with `N`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

pub(crate) struct Shared {
    pub deps: ServerDeps,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub cancels: CancelRegistry,
    /// Column names behind table OIDs, for masking.
    pub catalogs: crate::mask::catalog::Catalogs,
    pub admission: crate::admission::Admission,
}

pub struct PgServer {
    shared: Arc<Shared>,
    threads: SessionThreads,
}

impl PgServer {
    pub fn new(deps: ServerDeps, threads: SessionThreads) -> PgServer {
        let tls = deps.tls.clone().map(tokio_rustls::TlsAcceptor::from);
        PgServer {
            shared: Arc::new(Shared {
                deps,
                tls,
                cancels: CancelRegistry::default(),
                catalogs: Default::default(),
                admission: Default::default(),
            }),
            threads,
        }
    }

    /// Serves until `shutdown` turns true; sessions in progress run on.
    pub async fn serve(self, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let shared = self.shared.clone();
                        let max = shared.deps.guard.config().limits.max_connections;
                        match shared.admission.connection(max) {
                            Some(slot) => self.hand_over(shared, stream, peer, slot),
                            None => {
                                tokio::spawn(session::turn_away(stream, peer, max));
                            }
                        }
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: back off
                        // instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                },
                _ = shutdown.changed() => {
                    tracing::info!("postgres listener stopping");
                    return;
                }
            }
        }
    }

    /// Runs a session on the next session thread. Its socket moves to that
    /// thread's runtime, so that its readiness is noticed there, not here.
    fn hand_over(
        &self,
        shared: Arc<Shared>,
        stream: TcpStream,
        peer: SocketAddr,
        slot: ConnectionSlot,
    ) {
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "cannot hand a client connection over to a session thread");
                return;
            }
        };
        self.threads.next().spawn(async move {
            match TcpStream::from_std(stream) {
                Ok(stream) => session::run(shared, stream, peer, slot).await,
                Err(e) => tracing::warn!(error = %e, "cannot take over a client connection"),
            }
        });
    }
}
