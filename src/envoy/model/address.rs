//! Addresses and CIDR ranges (`envoy.config.core.v3`), shared by listeners, clusters and
//! endpoints.

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess};

use super::lenient::{self, Scalar, Shape};

/// `envoy.config.core.v3.Address` (socket, pipe or internal).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Address {
    #[serde(alias = "socketAddress", deserialize_with = "lenient::object")]
    pub socket_address: Option<SocketAddress>,
    #[serde(deserialize_with = "lenient::object")]
    pub pipe: Option<Pipe>,
    #[serde(alias = "envoyInternalAddress", deserialize_with = "lenient::object")]
    pub envoy_internal_address: Option<InternalAddress>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SocketAddress {
    #[serde(deserialize_with = "lenient::string")]
    pub address: Option<String>,
    #[serde(alias = "portValue", deserialize_with = "lenient::u32")]
    pub port_value: Option<u32>,
    #[serde(deserialize_with = "lenient::string")]
    pub protocol: Option<String>,
    #[serde(alias = "ipv4Compat", deserialize_with = "lenient::bool")]
    pub ipv4_compat: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Pipe {
    #[serde(deserialize_with = "lenient::string")]
    pub path: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct InternalAddress {
    #[serde(alias = "serverListenerName", deserialize_with = "lenient::string")]
    pub server_listener_name: Option<String>,
}

impl Address {
    /// `(ip, port)` of a socket address.
    pub fn ip_port(&self) -> Option<(&str, u32)> {
        let s = self.socket_address.as_ref()?;
        Some((
            s.address.as_deref().unwrap_or(""),
            s.port_value.unwrap_or(0),
        ))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((ip, port)) = self.ip_port() {
            if ip.contains(':') {
                write!(f, "[{ip}]:{port}")
            } else {
                write!(f, "{ip}:{port}")
            }
        } else if let Some(p) = self.pipe.as_ref().and_then(|p| p.path.as_deref()) {
            write!(f, "unix:{p}")
        } else if let Some(n) = self
            .envoy_internal_address
            .as_ref()
            .and_then(|a| a.server_listener_name.as_deref())
        {
            write!(f, "internal:{n}")
        } else {
            f.write_str("(no address)")
        }
    }
}

/// `envoy.config.core.v3.CidrRange`; Istio 1.0's v1 `destination_ip_list` writes `"a.b.c.d/n"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CidrRange {
    pub address_prefix: Option<String>,
    pub prefix_len: Option<u32>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct CidrObject {
    #[serde(alias = "addressPrefix", deserialize_with = "lenient::string")]
    pub address_prefix: Option<String>,
    #[serde(alias = "prefixLen", deserialize_with = "lenient::u32")]
    pub prefix_len: Option<u32>,
}

/// A CIDR string or object; other scalars and lists read as an empty range, but a float fails
/// the dump.
impl Shape for CidrRange {
    type Value = CidrRange;
    const EXPECTING: &'static str = "a CIDR range";

    fn scalar<E: de::Error>(v: Scalar<'_>) -> Result<CidrRange, E> {
        let s = match v {
            Scalar::Str(s) => s,
            Scalar::Float(_) => return Err(v.refuse(Self::EXPECTING)),
            _ => return Ok(CidrRange::default()),
        };
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip, len.trim().parse().ok()),
            None => (s, None),
        };
        let len = len.or_else(|| {
            ip.parse::<IpAddr>()
                .ok()
                .map(|a| if a.is_ipv4() { 32 } else { 128 })
        });
        Ok(CidrRange {
            address_prefix: Some(ip.trim().to_string()),
            prefix_len: len,
        })
    }

    fn map<'de, A: MapAccess<'de>>(a: A) -> Result<CidrRange, A::Error> {
        let o = CidrObject::deserialize(MapAccessDeserializer::new(a))?;
        Ok(CidrRange {
            address_prefix: o.address_prefix,
            prefix_len: o.prefix_len,
        })
    }
}

impl<'de> Deserialize<'de> for CidrRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::read::<CidrRange, D>(d)
    }
}

impl CidrRange {
    /// The prefix length that counts (a missing length is 0: the whole family).
    pub fn len(&self) -> u32 {
        self.prefix_len.unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.address_prefix.as_deref().is_none_or(str::is_empty)
    }

    /// Whether `ip` lies in this range (families must agree).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let Some(prefix) = self
            .address_prefix
            .as_deref()
            .and_then(|p| p.parse::<IpAddr>().ok())
        else {
            return false;
        };
        match (prefix, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => {
                let len = self.len().min(32);
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                u32::from(p) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(p), IpAddr::V6(a)) => {
                let len = self.len().min(128);
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                u128::from(p) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for CidrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.address_prefix.as_deref().unwrap_or("?"),
            self.len()
        )
    }
}
