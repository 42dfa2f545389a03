//! Listener filters: what `tls_inspector` and `http_inspector` make of the connection.

use super::Connection;
use crate::envoy::model::{FilterKind, Listener};

/// What the listener filters of a listener make of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub transport: String,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub notes: Vec<String>,
}

pub fn detect(listener: &Listener, conn: &Connection) -> Detected {
    let tls_inspector = listener.has_listener_filter(FilterKind::TlsInspector);
    let http_inspector = listener.has_listener_filter(FilterKind::HttpInspector);
    if conn.is_tls() {
        detect_tls(conn, tls_inspector)
    } else {
        detect_plaintext(conn, tls_inspector, http_inspector)
    }
}

fn detect_tls(conn: &Connection, tls_inspector: bool) -> Detected {
    if tls_inspector {
        let note = format!(
            "tls_inspector: transport tls, SNI {}{}",
            conn.sni.as_deref().unwrap_or(""),
            if conn.alpn.is_empty() {
                String::new()
            } else {
                format!(", ALPN {}", conn.alpn.join(", "))
            }
        );
        return Detected {
            transport: "tls".into(),
            sni: conn.sni.clone(),
            alpn: conn.alpn.clone(),
            notes: vec![note],
        };
    }
    Detected {
        transport: "raw_buffer".into(),
        sni: None,
        alpn: Vec::new(),
        notes: vec![
            "no tls_inspector: the TLS handshake is not inspected (transport raw_buffer, no SNI)"
                .into(),
        ],
    }
}

fn detect_plaintext(conn: &Connection, tls_inspector: bool, http_inspector: bool) -> Detected {
    let mut notes = Vec::new();
    let mut alpn = Vec::new();
    if conn.is_http() {
        let h2 = conn.alpn.iter().any(|a| a == "h2" || a == "h2c");
        if http_inspector {
            let proto = if h2 {
                "h2c"
            } else if conn.alpn.iter().any(|a| a == "http/1.0") {
                "http/1.0"
            } else {
                "http/1.1"
            };
            alpn.push(proto.to_string());
            notes.push(format!(
                "http_inspector: plaintext HTTP, application protocol {proto}"
            ));
        } else {
            notes.push("no http_inspector: plaintext, no application protocol detected".into());
        }
    } else if tls_inspector || http_inspector {
        notes.push(
            "plaintext, not HTTP: transport raw_buffer, no SNI, no application protocol".into(),
        );
    }
    Detected {
        transport: "raw_buffer".into(),
        sni: None,
        alpn,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_filters_shape_what_chains_see() {
        let mut l = Listener::default();
        let mut c = Connection::tcp("10.0.0.1".parse().unwrap(), 443);
        c.sni = Some("a.example.com".into());
        assert_eq!(detect(&l, &c).transport, "raw_buffer");
        l.listener_filters.push(crate::envoy::model::Filter {
            name: Some("envoy.filters.listener.tls_inspector".into()),
            ..Default::default()
        });
        let seen = detect(&l, &c);
        assert_eq!(
            (seen.transport.as_str(), seen.sni.as_deref()),
            ("tls", Some("a.example.com"))
        );
    }
}
