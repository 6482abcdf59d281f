//! `regelwerk serve`: builds the site for local preview and serves it on 127.0.0.1.
//!
//! The preview is built with `base_url` set to the local address, into its own folder (not the site's
//! `public/`), so a preview never ends up in a deployment. Unknown paths get the site's 404 page.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// Where a site's preview is written: a folder in the system's temp directory, one per site root.
pub fn preview_dir(root: &Path) -> PathBuf {
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let hash = blake3::hash(canonical.to_string_lossy().as_bytes()).to_hex();
    std::env::temp_dir().join(format!("regelwerk-preview-{}", &hash[..12]))
}

/// The local address a preview on `port` is served at.
pub fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/")
}

/// Serves the directory `dir` on 127.0.0.1:`port` until Ctrl+C.
pub fn serve_dir(dir: &Path, port: u16) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let not_found = ServeFile::new(dir.join("404.html"));
        let app = Router::new().fallback_service(ServeDir::new(dir).not_found_service(not_found));
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}
