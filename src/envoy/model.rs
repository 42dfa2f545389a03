//! Envoy config dumps as typed data: every shape in research §1 read into one model.
//!
//! Accepted shapes: `/config_dump` with `configs` as a list (v3 and v2alpha wrappers), as an
//! object keyed `bootstrap`/`listeners`/… (Envoy ≤ 1.7), or one entry per item
//! (`?resource=`); bare arrays of Listener/Cluster/RouteConfiguration/ClusterLoadAssignment
//! (`istioctl proxy-config … -o json`); snake_case or lowerCamelCase keys. Fields are read
//! leniently: a polymorphic value of an unexpected shape is skipped rather than failing the dump.
//!
//! Only what the linter and the simulator use is kept; everything else is skipped while parsing
//! (no intermediate tree), which is what keeps a 50 MB dump fast.

use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

// ---------------------------------------------------------------------------------------------
// Lenient field readers: proto3 JSON wrappers and polymorphic values of any shape.

mod lenient {
    use super::*;

    /// A string; any other value is skipped.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(V)
    }

    /// A number (proto3 JSON may quote it, and old dumps wrap it as `{"value": n}`).
    pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<u64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(u64::try_from(v).ok())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok((v >= 0.0 && v.fract() == 0.0).then_some(v as u64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.trim().parse().ok())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = None;
                while let Some(k) = a.next_key::<String>()? {
                    if k == "value" {
                        out = a.next_value::<Num64>()?.0;
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        Ok(number(d)?.and_then(|n| u32::try_from(n).ok()))
    }

    /// A bool (bare, quoted, or `{"value": b}`).
    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<bool>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a bool")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(v.parse().ok())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = None;
                while let Some(k) = a.next_key::<String>()? {
                    if k == "value" {
                        out = a.next_value::<Bool>()?.0;
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }

    /// An object decoded as `T`; any other value (a list, a string) is skipped.
    pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(a)).map(Some)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(self)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        d.deserialize_any(V(PhantomData))
    }

    /// A list of `T`; null or any non-list value reads as empty.
    pub fn seq<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = a.next_element()? {
                    out.push(x);
                }
                Ok(out)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Vec::new())
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
                d.deserialize_any(self)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
        }
        d.deserialize_any(V(PhantomData))
    }

    /// A list of strings, skipping non-strings.
    pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let items: Vec<Str> = seq(d)?;
        Ok(items.into_iter().filter_map(|s| s.0).collect())
    }

    /// A list of numbers, skipping others.
    pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let items: Vec<Num> = seq(d)?;
        Ok(items.into_iter().filter_map(|s| s.0).collect())
    }

    struct Str(Option<String>);
    impl<'de> Deserialize<'de> for Str {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            string(d).map(Str)
        }
    }

    struct Num(Option<u32>);
    impl<'de> Deserialize<'de> for Num {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            u32(d).map(Num)
        }
    }

    struct Num64(Option<u64>);
    impl<'de> Deserialize<'de> for Num64 {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            number(d).map(Num64)
        }
    }

    struct Bool(Option<bool>);
    impl<'de> Deserialize<'de> for Bool {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            bool(d).map(Bool)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resources.

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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdditionalAddress {
    #[serde(deserialize_with = "lenient::object")]
    pub address: Option<Address>,
}

/// `deprecated_v1` of old listeners: `{bind_to_port: false}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeprecatedV1 {
    #[serde(alias = "bindToPort", deserialize_with = "lenient::bool")]
    pub bind_to_port: Option<bool>,
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

impl<'de> Deserialize<'de> for CidrRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CidrRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CIDR range")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CidrRange, E> {
                let (ip, len) = match v.split_once('/') {
                    Some((ip, len)) => (ip, len.trim().parse().ok()),
                    None => (v, None),
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
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<CidrRange, A::Error> {
                let o = CidrObject::deserialize(MapAccessDeserializer::new(a))?;
                Ok(CidrRange {
                    address_prefix: o.address_prefix,
                    prefix_len: o.prefix_len,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<CidrRange, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(CidrRange::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<CidrRange, E> {
                Ok(CidrRange::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<CidrRange, E> {
                Ok(CidrRange::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<CidrRange, E> {
                Ok(CidrRange::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<CidrRange, E> {
                Ok(CidrRange::default())
            }
        }
        d.deserialize_any(V)
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

/// `envoy.config.listener.v3.FilterChainMatch`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct FilterChainMatch {
    #[serde(alias = "destinationPort", deserialize_with = "lenient::u32")]
    pub destination_port: Option<u32>,
    #[serde(alias = "prefixRanges", deserialize_with = "lenient::seq")]
    pub prefix_ranges: Vec<CidrRange>,
    #[serde(alias = "serverNames", deserialize_with = "lenient::strings")]
    pub server_names: Vec<String>,
    #[serde(alias = "transportProtocol", deserialize_with = "lenient::string")]
    pub transport_protocol: Option<String>,
    #[serde(alias = "applicationProtocols", deserialize_with = "lenient::strings")]
    pub application_protocols: Vec<String>,
    #[serde(alias = "directSourcePrefixRanges", deserialize_with = "lenient::seq")]
    pub direct_source_prefix_ranges: Vec<CidrRange>,
    #[serde(alias = "sourceType", deserialize_with = "lenient::string")]
    pub source_type: Option<String>,
    #[serde(alias = "sourcePrefixRanges", deserialize_with = "lenient::seq")]
    pub source_prefix_ranges: Vec<CidrRange>,
    #[serde(alias = "sourcePorts", deserialize_with = "lenient::numbers")]
    pub source_ports: Vec<u32>,
}

impl FilterChainMatch {
    /// Whether nothing is constrained (a match-all chain).
    pub fn is_empty(&self) -> bool {
        *self == FilterChainMatch::default()
            || (self.destination_port.is_none()
                && self.prefix_ranges.is_empty()
                && self.server_names.is_empty()
                && self.transport_protocol.as_deref().is_none_or(str::is_empty)
                && self.application_protocols.is_empty()
                && self.direct_source_prefix_ranges.is_empty()
                && self
                    .source_type
                    .as_deref()
                    .is_none_or(|t| t.is_empty() || t == "ANY")
                && self.source_prefix_ranges.is_empty()
                && self.source_ports.is_empty())
    }

    /// A short description of the criteria, e.g. `prefix_ranges 10.0.0.1/32, transport tls`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.destination_port {
            parts.push(format!("destination_port {p}"));
        }
        if !self.prefix_ranges.is_empty() {
            let r: Vec<String> = self.prefix_ranges.iter().map(|r| r.to_string()).collect();
            parts.push(format!("prefix_ranges {}", r.join(", ")));
        }
        if !self.server_names.is_empty() {
            parts.push(format!("server_names {}", self.server_names.join(", ")));
        }
        if let Some(t) = self.transport_protocol.as_deref().filter(|t| !t.is_empty()) {
            parts.push(format!("transport_protocol {t}"));
        }
        if !self.application_protocols.is_empty() {
            parts.push(format!(
                "application_protocols {}",
                self.application_protocols.join(", ")
            ));
        }
        if !self.direct_source_prefix_ranges.is_empty() {
            let r: Vec<String> = self
                .direct_source_prefix_ranges
                .iter()
                .map(|r| r.to_string())
                .collect();
            parts.push(format!("direct_source_prefix_ranges {}", r.join(", ")));
        }
        if let Some(t) = self
            .source_type
            .as_deref()
            .filter(|t| !t.is_empty() && *t != "ANY")
        {
            parts.push(format!("source_type {t}"));
        }
        if !self.source_prefix_ranges.is_empty() {
            let r: Vec<String> = self
                .source_prefix_ranges
                .iter()
                .map(|r| r.to_string())
                .collect();
            parts.push(format!("source_prefix_ranges {}", r.join(", ")));
        }
        if !self.source_ports.is_empty() {
            let p: Vec<String> = self.source_ports.iter().map(|p| p.to_string()).collect();
            parts.push(format!("source_ports {}", p.join(", ")));
        }
        if parts.is_empty() {
            "match-all".into()
        } else {
            parts.join("; ")
        }
    }
}

/// What a network or listener filter is, from its `@type` when present, else its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    TcpProxy,
    HttpConnectionManager,
    TlsInspector,
    HttpInspector,
    OriginalDst,
    /// Another terminal network filter (sni_cluster, redis_proxy, …).
    OtherTerminal,
    Other,
}

fn kind_of(name: &str, type_url: Option<&str>) -> FilterKind {
    let t = type_url.unwrap_or("");
    let has = |needle: &str| t.contains(needle) || name.contains(needle);
    if t.contains("tcp_proxy")
        || matches!(name, "envoy.tcp_proxy" | "envoy.filters.network.tcp_proxy")
    {
        FilterKind::TcpProxy
    } else if t.contains("http_connection_manager")
        || matches!(
            name,
            "envoy.http_connection_manager" | "envoy.filters.network.http_connection_manager"
        )
    {
        FilterKind::HttpConnectionManager
    } else if has("tls_inspector") {
        FilterKind::TlsInspector
    } else if has("http_inspector") {
        FilterKind::HttpInspector
    } else if has("original_dst") {
        FilterKind::OriginalDst
    } else if has("sni_cluster")
        || has("sni_dynamic_forward_proxy")
        || has("redis_proxy")
        || has("thrift_proxy")
        || has("dubbo_proxy")
        || has("echo")
        || has("direct_response")
    {
        FilterKind::OtherTerminal
    } else {
        FilterKind::Other
    }
}

/// The parts of a filter config (typed_config Any or v2 `config` Struct) the tools read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterConfig {
    #[serde(rename = "@type", deserialize_with = "lenient::string")]
    pub type_url: Option<String>,
    /// TypedStruct wrappers name the real type here.
    #[serde(alias = "typeUrl", deserialize_with = "lenient::string")]
    pub type_url_inner: Option<String>,
    #[serde(alias = "statPrefix", deserialize_with = "lenient::string")]
    pub stat_prefix: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub cluster: Option<String>,
    #[serde(alias = "weightedClusters", deserialize_with = "lenient::object")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(deserialize_with = "lenient::object")]
    pub rds: Option<Rds>,
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<RouteConfiguration>,
    #[serde(alias = "scopedRoutes", deserialize_with = "lenient::object")]
    pub scoped_routes: Option<IgnoredAny>,
    /// Istio 1.0 `tcp_proxy` v1 form: `{deprecated_v1: true, value: {route_config: {routes}}}`.
    #[serde(deserialize_with = "lenient::object")]
    pub value: Option<V1Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeightedClusters {
    #[serde(deserialize_with = "lenient::seq")]
    pub clusters: Vec<WeightedCluster>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeightedCluster {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::u32")]
    pub weight: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Rds {
    #[serde(alias = "routeConfigName", deserialize_with = "lenient::string")]
    pub route_config_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct V1Value {
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<V1RouteConfig>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct V1RouteConfig {
    #[serde(deserialize_with = "lenient::seq")]
    pub routes: Vec<V1Route>,
}

/// A route of the Istio 1.0 `tcp_proxy` v1 config.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct V1Route {
    #[serde(deserialize_with = "lenient::string")]
    pub cluster: Option<String>,
    #[serde(alias = "destinationIpList", deserialize_with = "lenient::seq")]
    pub destination_ip_list: Vec<CidrRange>,
    #[serde(alias = "destinationPorts", deserialize_with = "lenient::string")]
    pub destination_ports: Option<String>,
}

/// A network or listener filter.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Filter {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "typedConfig", deserialize_with = "lenient::object")]
    pub typed_config: Option<FilterConfig>,
    /// The v2 `config` Struct (no `@type`).
    #[serde(deserialize_with = "lenient::object")]
    pub config: Option<FilterConfig>,
    /// Listener filters: `filter_disabled` predicate (kept raw).
    #[serde(alias = "filterDisabled", deserialize_with = "lenient::object")]
    pub filter_disabled: Option<serde_json::Value>,
}

impl Filter {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The config, whichever of `typed_config` and `config` is set.
    pub fn conf(&self) -> Option<&FilterConfig> {
        self.typed_config.as_ref().or(self.config.as_ref())
    }

    /// The key the config sits under (`typed_config` or `config`), for pointers.
    pub fn conf_key(&self) -> &'static str {
        if self.typed_config.is_some() {
            "typed_config"
        } else {
            "config"
        }
    }

    pub fn kind(&self) -> FilterKind {
        let conf = self.conf();
        let t = conf.and_then(|c| {
            c.type_url
                .as_deref()
                .filter(|t| !t.ends_with("TypedStruct"))
                .or(c.type_url_inner.as_deref())
        });
        kind_of(self.name(), t)
    }

    /// The clusters a `tcp_proxy` sends to: `cluster`, `weighted_clusters`, or the v1 routes.
    pub fn tcp_clusters(&self) -> Vec<String> {
        let Some(c) = self.conf() else {
            return Vec::new();
        };
        if let Some(name) = &c.cluster {
            return vec![name.clone()];
        }
        if let Some(w) = &c.weighted_clusters {
            return w.clusters.iter().filter_map(|c| c.name.clone()).collect();
        }
        if let Some(v1) = c.value.as_ref().and_then(|v| v.route_config.as_ref()) {
            return v1.routes.iter().filter_map(|r| r.cluster.clone()).collect();
        }
        Vec::new()
    }
}

/// `envoy.config.listener.v3.FilterChain`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterChain {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "filterChainMatch", deserialize_with = "lenient::object")]
    pub filter_chain_match: Option<FilterChainMatch>,
    #[serde(deserialize_with = "lenient::seq")]
    pub filters: Vec<Filter>,
    /// TLS termination (v2 `tls_context` or a TLS `transport_socket`).
    #[serde(alias = "tlsContext", deserialize_with = "lenient::object")]
    pub tls_context: Option<IgnoredAny>,
    #[serde(alias = "transportSocket", deserialize_with = "lenient::object")]
    pub transport_socket: Option<Filter>,
}

/// What a filter chain ends in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// `tcp_proxy` to these clusters (index of the filter).
    Tcp {
        filter: usize,
        clusters: Vec<String>,
    },
    /// HTTP connection manager with RDS (route name) or an inline route config.
    Http {
        filter: usize,
        rds: Option<String>,
        inline: bool,
    },
    /// Another terminal filter (named).
    Other { filter: usize, name: String },
    /// No terminal filter.
    None,
}

impl FilterChain {
    pub fn fcm(&self) -> FilterChainMatch {
        self.filter_chain_match.clone().unwrap_or_default()
    }

    pub fn is_match_all(&self) -> bool {
        self.filter_chain_match
            .as_ref()
            .is_none_or(FilterChainMatch::is_empty)
    }

    /// The first terminal network filter: `tcp_proxy`, HTTP connection manager or another.
    pub fn terminal(&self) -> Terminal {
        for (i, f) in self.filters.iter().enumerate() {
            match f.kind() {
                FilterKind::TcpProxy => {
                    return Terminal::Tcp {
                        filter: i,
                        clusters: f.tcp_clusters(),
                    };
                }
                FilterKind::HttpConnectionManager => {
                    let c = f.conf();
                    return Terminal::Http {
                        filter: i,
                        rds: c
                            .and_then(|c| c.rds.as_ref())
                            .and_then(|r| r.route_config_name.clone()),
                        inline: c.is_some_and(|c| c.route_config.is_some()),
                    };
                }
                FilterKind::OtherTerminal => {
                    return Terminal::Other {
                        filter: i,
                        name: f.name().to_string(),
                    };
                }
                _ => {}
            }
        }
        Terminal::None
    }

    /// The inline route config of its HTTP connection manager, if any.
    pub fn inline_routes(&self) -> Option<&RouteConfiguration> {
        self.filters
            .iter()
            .find(|f| f.kind() == FilterKind::HttpConnectionManager)
            .and_then(|f| f.conf())
            .and_then(|c| c.route_config.as_ref())
    }
}

/// `envoy.config.listener.v3.Listener` (and `envoy.api.v2.Listener`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Listener {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub address: Option<Address>,
    #[serde(alias = "additionalAddresses", deserialize_with = "lenient::seq")]
    pub additional_addresses: Vec<AdditionalAddress>,
    #[serde(alias = "filterChains", deserialize_with = "lenient::seq")]
    pub filter_chains: Vec<FilterChain>,
    #[serde(alias = "defaultFilterChain", deserialize_with = "lenient::object")]
    pub default_filter_chain: Option<FilterChain>,
    #[serde(alias = "filterChainMatcher", deserialize_with = "lenient::object")]
    pub filter_chain_matcher: Option<serde_json::Value>,
    #[serde(alias = "listenerFilters", deserialize_with = "lenient::seq")]
    pub listener_filters: Vec<Filter>,
    #[serde(alias = "useOriginalDst", deserialize_with = "lenient::bool")]
    pub use_original_dst: Option<bool>,
    #[serde(alias = "bindToPort", deserialize_with = "lenient::bool")]
    pub bind_to_port: Option<bool>,
    #[serde(alias = "deprecatedV1", deserialize_with = "lenient::object")]
    pub deprecated_v1: Option<DeprecatedV1>,
    #[serde(alias = "trafficDirection", deserialize_with = "lenient::string")]
    pub traffic_direction: Option<String>,
    #[serde(alias = "internalListener", deserialize_with = "lenient::object")]
    pub internal_listener: Option<IgnoredAny>,
}

impl Listener {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// `(ip, port)` of its socket address; `None` for internal and pipe listeners.
    pub fn ip_port(&self) -> Option<(&str, u32)> {
        self.address.as_ref().and_then(Address::ip_port)
    }

    /// The main and additional socket addresses.
    pub fn socket_addresses(&self) -> Vec<(&str, u32)> {
        self.ip_port()
            .into_iter()
            .chain(
                self.additional_addresses
                    .iter()
                    .filter_map(|a| a.address.as_ref().and_then(Address::ip_port)),
            )
            .collect()
    }

    /// Whether it binds its port: `bind_to_port`, else `deprecated_v1.bind_to_port`, else true.
    pub fn binds(&self) -> bool {
        self.bind_to_port
            .or(self.deprecated_v1.as_ref().and_then(|d| d.bind_to_port))
            .unwrap_or(true)
    }

    /// Whether it hands connections off by their original destination (Istio's 15001).
    pub fn hands_off(&self) -> bool {
        self.use_original_dst == Some(true)
    }

    pub fn has_listener_filter(&self, kind: FilterKind) -> bool {
        self.listener_filters.iter().any(|f| f.kind() == kind)
    }

    pub fn address_text(&self) -> String {
        self.address
            .as_ref()
            .map_or_else(|| "(no address)".to_string(), |a| a.to_string())
    }
}

/// `envoy.config.route.v3.RouteConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteConfiguration {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "virtualHosts", deserialize_with = "lenient::seq")]
    pub virtual_hosts: Vec<VirtualHost>,
    #[serde(alias = "ignorePortInHostMatching", deserialize_with = "lenient::bool")]
    pub ignore_port_in_host_matching: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct VirtualHost {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub domains: Vec<String>,
    #[serde(deserialize_with = "lenient::seq")]
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Route {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(rename = "match", deserialize_with = "lenient::object")]
    pub matcher: Option<RouteMatch>,
    #[serde(deserialize_with = "lenient::object")]
    pub route: Option<RouteAction>,
    #[serde(deserialize_with = "lenient::object")]
    pub redirect: Option<IgnoredAny>,
    #[serde(alias = "directResponse", deserialize_with = "lenient::object")]
    pub direct_response: Option<DirectResponse>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteMatch {
    #[serde(deserialize_with = "lenient::string")]
    pub prefix: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub path: Option<String>,
    #[serde(alias = "pathSeparatedPrefix", deserialize_with = "lenient::string")]
    pub path_separated_prefix: Option<String>,
    #[serde(alias = "safeRegex", deserialize_with = "lenient::object")]
    pub safe_regex: Option<SafeRegex>,
    #[serde(deserialize_with = "lenient::seq")]
    pub headers: Vec<IgnoredAny>,
    #[serde(alias = "queryParameters", deserialize_with = "lenient::seq")]
    pub query_parameters: Vec<IgnoredAny>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SafeRegex {
    #[serde(deserialize_with = "lenient::string")]
    pub regex: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteAction {
    #[serde(deserialize_with = "lenient::string")]
    pub cluster: Option<String>,
    #[serde(alias = "weightedClusters", deserialize_with = "lenient::object")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(alias = "clusterHeader", deserialize_with = "lenient::string")]
    pub cluster_header: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DirectResponse {
    #[serde(deserialize_with = "lenient::u32")]
    pub status: Option<u32>,
}

impl RouteConfiguration {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// Every cluster a route of it may send to.
    pub fn clusters(&self) -> impl Iterator<Item = &str> {
        self.virtual_hosts
            .iter()
            .flat_map(|v| v.routes.iter())
            .filter_map(|r| r.route.as_ref())
            .flat_map(|a| {
                a.cluster.as_deref().into_iter().chain(
                    a.weighted_clusters
                        .iter()
                        .flat_map(|w| w.clusters.iter().filter_map(|c| c.name.as_deref())),
                )
            })
    }
}

/// `envoy.config.endpoint.v3.ClusterLoadAssignment`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ClusterLoadAssignment {
    #[serde(alias = "clusterName", deserialize_with = "lenient::string")]
    pub cluster_name: Option<String>,
    #[serde(deserialize_with = "lenient::seq")]
    pub endpoints: Vec<LocalityLbEndpoints>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LocalityLbEndpoints {
    #[serde(alias = "lbEndpoints", deserialize_with = "lenient::seq")]
    pub lb_endpoints: Vec<LbEndpoint>,
    #[serde(deserialize_with = "lenient::u32")]
    pub priority: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LbEndpoint {
    #[serde(deserialize_with = "lenient::object")]
    pub endpoint: Option<Endpoint>,
    #[serde(alias = "healthStatus", deserialize_with = "lenient::string")]
    pub health_status: Option<String>,
    #[serde(alias = "loadBalancingWeight", deserialize_with = "lenient::u32")]
    pub load_balancing_weight: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Endpoint {
    #[serde(deserialize_with = "lenient::object")]
    pub address: Option<Address>,
    #[serde(deserialize_with = "lenient::string")]
    pub hostname: Option<String>,
}

impl ClusterLoadAssignment {
    /// Every endpoint as `(address, health)`.
    pub fn endpoints(&self) -> Vec<(String, String)> {
        self.endpoints
            .iter()
            .flat_map(|l| l.lb_endpoints.iter())
            .map(|e| {
                let addr = e
                    .endpoint
                    .as_ref()
                    .and_then(|e| e.address.as_ref())
                    .map_or_else(|| "?".to_string(), |a| a.to_string());
                let health = e
                    .health_status
                    .clone()
                    .unwrap_or_else(|| "UNKNOWN".to_string());
                (addr, health)
            })
            .collect()
    }
}

/// `envoy.config.cluster.v3.Cluster`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Cluster {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub discovery_type: Option<String>,
    #[serde(alias = "clusterType", deserialize_with = "lenient::object")]
    pub cluster_type: Option<CustomClusterType>,
    #[serde(alias = "edsClusterConfig", deserialize_with = "lenient::object")]
    pub eds_cluster_config: Option<EdsClusterConfig>,
    #[serde(alias = "loadAssignment", deserialize_with = "lenient::object")]
    pub load_assignment: Option<ClusterLoadAssignment>,
    /// v2 clusters may list `hosts` instead of a load assignment.
    #[serde(deserialize_with = "lenient::seq")]
    pub hosts: Vec<Address>,
    #[serde(deserialize_with = "lenient::object")]
    pub metadata: Option<Metadata>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CustomClusterType {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EdsClusterConfig {
    #[serde(alias = "serviceName", deserialize_with = "lenient::string")]
    pub service_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Metadata {
    #[serde(alias = "filterMetadata", deserialize_with = "lenient::object")]
    pub filter_metadata: Option<FilterMetadata>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterMetadata {
    #[serde(deserialize_with = "lenient::object")]
    pub istio: Option<IstioMetadata>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct IstioMetadata {
    #[serde(deserialize_with = "lenient::seq")]
    pub services: Vec<IstioService>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct IstioService {
    #[serde(deserialize_with = "lenient::string")]
    pub host: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub namespace: Option<String>,
}

impl Cluster {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// `EDS`, `STRICT_DNS`, `ORIGINAL_DST`, … (`STATIC` when unset, as proto3 defaults; a custom
    /// cluster type by its name).
    pub fn kind(&self) -> String {
        if let Some(n) = self.cluster_type.as_ref().and_then(|c| c.name.as_deref()) {
            return n.to_string();
        }
        self.discovery_type
            .clone()
            .unwrap_or_else(|| "STATIC".to_string())
    }

    /// The services Istio recorded in the cluster's `istio` metadata.
    pub fn istio_services(&self) -> &[IstioService] {
        self.metadata
            .as_ref()
            .and_then(|m| m.filter_metadata.as_ref())
            .and_then(|f| f.istio.as_ref())
            .map_or(&[], |i| i.services.as_slice())
    }
}

/// Parts of an Istio cluster name `outbound|PORT|SUBSET|HOST` (also `inbound|…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IstioClusterName<'a> {
    pub direction: &'a str,
    pub port: u32,
    pub subset: &'a str,
    pub host: &'a str,
}

pub fn parse_cluster_name(name: &str) -> Option<IstioClusterName<'_>> {
    let mut parts = name.splitn(4, '|');
    let direction = parts.next()?;
    if direction != "outbound" && direction != "inbound" {
        return None;
    }
    let port = parts.next()?.parse().ok()?;
    let subset = parts.next()?;
    let host = parts.next()?;
    Some(IstioClusterName {
        direction,
        port,
        subset,
        host,
    })
}

// ---------------------------------------------------------------------------------------------
// The dump as Envoy's admin (or istioctl) prints it.

/// `{"configs": …}`: a list (v3, v2alpha, per-item) or an object keyed by section (≤ 1.7).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDump {
    pub configs: Configs,
}

/// The entries of `configs`, each with its object key when `configs` is an object.
#[derive(Debug, Default)]
pub struct Configs(pub Vec<(Option<String>, RawEntry)>);

impl<'de> Deserialize<'de> for Configs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Configs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list or an object of config dump sections")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Configs, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = a.next_element::<Entry>()? {
                    out.push((None, e.0));
                }
                Ok(Configs(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Configs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, e)) = a.next_entry::<String, Entry>()? {
                    out.push((Some(k), e.0));
                }
                Ok(Configs(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Configs, E> {
                Ok(Configs::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Configs, E> {
                Ok(Configs::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// An entry of `configs` that is not an object reads as an empty section.
struct Entry(RawEntry);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Entry(lenient::object(d)?.unwrap_or_default()))
    }
}

/// One `configs` entry: a whole section (`ListenersConfigDump`, …) or, with `?resource=`, one
/// item of a section. The fields of every kind live side by side; `@type` tells them apart.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEntry {
    #[serde(rename = "@type", deserialize_with = "lenient::string")]
    pub type_url: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub bootstrap: Option<RawBootstrap>,
    #[serde(alias = "staticListeners", deserialize_with = "lenient::seq")]
    pub static_listeners: Vec<RawListenerState>,
    #[serde(alias = "dynamicListeners", deserialize_with = "lenient::seq")]
    pub dynamic_listeners: Vec<RawDynamicListener>,
    #[serde(alias = "dynamicActiveListeners", deserialize_with = "lenient::seq")]
    pub dynamic_active_listeners: Vec<RawListenerState>,
    #[serde(alias = "dynamicWarmingListeners", deserialize_with = "lenient::seq")]
    pub dynamic_warming_listeners: Vec<RawListenerState>,
    #[serde(alias = "dynamicDrainingListeners", deserialize_with = "lenient::seq")]
    pub dynamic_draining_listeners: Vec<RawListenerState>,
    #[serde(alias = "staticClusters", deserialize_with = "lenient::seq")]
    pub static_clusters: Vec<RawClusterEntry>,
    #[serde(alias = "dynamicActiveClusters", deserialize_with = "lenient::seq")]
    pub dynamic_active_clusters: Vec<RawClusterEntry>,
    #[serde(alias = "dynamicWarmingClusters", deserialize_with = "lenient::seq")]
    pub dynamic_warming_clusters: Vec<RawClusterEntry>,
    #[serde(alias = "staticRouteConfigs", deserialize_with = "lenient::seq")]
    pub static_route_configs: Vec<RawRouteEntry>,
    #[serde(alias = "dynamicRouteConfigs", deserialize_with = "lenient::seq")]
    pub dynamic_route_configs: Vec<RawRouteEntry>,
    #[serde(alias = "staticEndpointConfigs", deserialize_with = "lenient::seq")]
    pub static_endpoint_configs: Vec<RawEndpointEntry>,
    #[serde(alias = "dynamicEndpointConfigs", deserialize_with = "lenient::seq")]
    pub dynamic_endpoint_configs: Vec<RawEndpointEntry>,
    // Per-item entries (`?resource=`): a DynamicListener, StaticListener, cluster, route, CLA.
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "activeState", deserialize_with = "lenient::object")]
    pub active_state: Option<RawListenerState>,
    #[serde(alias = "warmingState", deserialize_with = "lenient::object")]
    pub warming_state: Option<RawListenerState>,
    #[serde(alias = "drainingState", deserialize_with = "lenient::object")]
    pub draining_state: Option<RawListenerState>,
    #[serde(alias = "errorState", deserialize_with = "lenient::object")]
    pub error_state: Option<RawErrorState>,
    #[serde(deserialize_with = "lenient::object")]
    pub listener: Option<Listener>,
    #[serde(deserialize_with = "lenient::object")]
    pub cluster: Option<Cluster>,
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<RouteConfiguration>,
    #[serde(alias = "endpointConfig", deserialize_with = "lenient::object")]
    pub endpoint_config: Option<ClusterLoadAssignment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBootstrap {
    #[serde(deserialize_with = "lenient::object")]
    pub node: Option<RawNode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawNode {
    #[serde(deserialize_with = "lenient::string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::object")]
    pub metadata: Option<RawNodeMeta>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawNodeMeta {
    #[serde(rename = "ISTIO_VERSION", deserialize_with = "lenient::string")]
    pub istio_version: Option<String>,
    #[serde(rename = "NAMESPACE", deserialize_with = "lenient::string")]
    pub namespace: Option<String>,
    #[serde(rename = "CONFIG_NAMESPACE", deserialize_with = "lenient::string")]
    pub config_namespace: Option<String>,
    #[serde(rename = "NAME", deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(rename = "POD_NAME", deserialize_with = "lenient::string")]
    pub pod_name: Option<String>,
    #[serde(
        rename = "INSTANCE_IPS",
        alias = "ISTIO_META_INSTANCE_IPS",
        deserialize_with = "lenient::string"
    )]
    pub instance_ips: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawListenerState {
    #[serde(deserialize_with = "lenient::object")]
    pub listener: Option<Listener>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDynamicListener {
    #[serde(deserialize_with = "lenient::string")]
    pub name: Option<String>,
    #[serde(alias = "activeState", deserialize_with = "lenient::object")]
    pub active_state: Option<RawListenerState>,
    #[serde(alias = "warmingState", deserialize_with = "lenient::object")]
    pub warming_state: Option<RawListenerState>,
    #[serde(alias = "drainingState", deserialize_with = "lenient::object")]
    pub draining_state: Option<RawListenerState>,
    #[serde(alias = "errorState", deserialize_with = "lenient::object")]
    pub error_state: Option<RawErrorState>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawErrorState {
    #[serde(alias = "failedConfiguration", deserialize_with = "lenient::object")]
    pub failed_configuration: Option<Listener>,
    #[serde(deserialize_with = "lenient::string")]
    pub details: Option<String>,
    #[serde(alias = "lastUpdateAttempt", deserialize_with = "lenient::string")]
    pub last_update_attempt: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawClusterEntry {
    #[serde(deserialize_with = "lenient::object")]
    pub cluster: Option<Cluster>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRouteEntry {
    #[serde(alias = "routeConfig", deserialize_with = "lenient::object")]
    pub route_config: Option<RouteConfiguration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEndpointEntry {
    #[serde(alias = "endpointConfig", deserialize_with = "lenient::object")]
    pub endpoint_config: Option<ClusterLoadAssignment>,
}

// ---------------------------------------------------------------------------------------------
// The normalised dump.

/// Which state a listener was reported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListenerState {
    /// Bootstrap `static_listeners`.
    Static,
    /// `active_state` / `dynamic_active_listeners`: serving traffic.
    Active,
    /// Not on the workers yet.
    Warming,
    /// Being removed.
    Draining,
}

impl ListenerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerState::Static => "static",
            ListenerState::Active => "active",
            ListenerState::Warming => "warming",
            ListenerState::Draining => "draining",
        }
    }

    /// Static and active listeners take connections.
    pub fn serves(self) -> bool {
        matches!(self, ListenerState::Static | ListenerState::Active)
    }
}

#[derive(Clone, Debug)]
pub struct DumpListener {
    pub listener: Listener,
    pub state: ListenerState,
    /// JSON pointer of the Listener object in the document.
    pub pointer: String,
}

impl DumpListener {
    /// Its name, or `<address>` for the unnamed static listeners of older bootstraps.
    pub fn label(&self) -> String {
        match self.listener.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("{} ({})", self.listener.address_text(), self.state.as_str()),
        }
    }
}

/// An `error_state`: a listener Envoy rejected (named), or an LDS error tied to no name.
#[derive(Clone, Debug)]
pub struct ListenerError {
    pub name: Option<String>,
    pub details: String,
    pub last_update_attempt: Option<String>,
    pub failed: Option<Listener>,
    /// Pointer of the `error_state` object.
    pub pointer: String,
    /// Whether the same name also has an active (older) version.
    pub has_active: bool,
}

#[derive(Clone, Debug)]
pub struct DumpCluster {
    pub cluster: Cluster,
    pub warming: bool,
    pub pointer: String,
}

#[derive(Clone, Debug)]
pub struct DumpRoute {
    pub route: RouteConfiguration,
    pub pointer: String,
}

#[derive(Clone, Debug)]
pub struct DumpEndpoints {
    pub assignment: ClusterLoadAssignment,
    pub pointer: String,
}

/// The proxy the dump came from, from the bootstrap node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyNode {
    pub id: String,
    /// `sidecar`, `router`, `waypoint`, … (first field of an Istio node id).
    pub kind: String,
    /// The proxy's IPs (node id and `INSTANCE_IPS`).
    pub ips: Vec<String>,
    /// `pod.namespace` from the node id, or the metadata's name.
    pub pod: String,
    pub namespace: String,
    pub istio_version: Option<String>,
}

impl ProxyNode {
    fn from_raw(n: &RawNode) -> Option<ProxyNode> {
        let id = n.id.clone().unwrap_or_default();
        let meta = n.metadata.as_ref();
        let parts: Vec<&str> = id.split('~').collect();
        let mut node = ProxyNode {
            id: id.clone(),
            ..ProxyNode::default()
        };
        if parts.len() == 4 {
            node.kind = parts[0].to_string();
            if !parts[1].is_empty() {
                node.ips.push(parts[1].to_string());
            }
            let (pod, ns) = parts[2].split_once('.').unwrap_or((parts[2], ""));
            node.pod = pod.to_string();
            node.namespace = ns.to_string();
        }
        if let Some(m) = meta {
            if node.pod.is_empty() {
                node.pod = m.name.clone().or(m.pod_name.clone()).unwrap_or_default();
            }
            if node.namespace.is_empty() {
                node.namespace = m
                    .namespace
                    .clone()
                    .or(m.config_namespace.clone())
                    .unwrap_or_default();
            }
            node.istio_version = m.istio_version.clone();
            for ip in m.instance_ips.iter().flat_map(|s| s.split(',')) {
                let ip = ip.trim();
                if !ip.is_empty() && !node.ips.iter().any(|i| i == ip) {
                    node.ips.push(ip.to_string());
                }
            }
        }
        (!id.is_empty() || meta.is_some()).then_some(node)
    }

    /// `pod.namespace`, or the node id.
    pub fn label(&self) -> String {
        match (self.pod.is_empty(), self.namespace.is_empty()) {
            (false, false) => format!("{}.{}", self.pod, self.namespace),
            (false, true) => self.pod.clone(),
            _ => self.id.clone(),
        }
    }
}

/// Which sections the dump had (a finding that needs routes is not made without them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    pub listeners: bool,
    pub clusters: bool,
    pub routes: bool,
    pub endpoints: bool,
}

/// A config dump, normalised.
#[derive(Clone, Debug, Default)]
pub struct Dump {
    /// What shape it was read from, for messages (`Envoy /config_dump (v3)`, …).
    pub shape: String,
    /// Keys were lowerCamelCase (istioctl per-resource output, re-marshalled dumps).
    pub camel: bool,
    pub node: Option<ProxyNode>,
    pub listeners: Vec<DumpListener>,
    pub errors: Vec<ListenerError>,
    pub clusters: Vec<DumpCluster>,
    pub routes: Vec<DumpRoute>,
    pub endpoints: Vec<DumpEndpoints>,
    pub sections: Sections,
}

/// Escapes a JSON pointer token (RFC 6901).
pub fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

/// snake_case → lowerCamelCase.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl Dump {
    /// A field name as the document spells it.
    pub fn key(&self, snake: &str) -> String {
        if self.camel {
            camel_case(snake)
        } else {
            snake.to_string()
        }
    }

    /// `base` + `/key` (spelled as in the document) + more raw tokens.
    pub fn ptr(&self, base: &str, key: &str) -> String {
        format!("{base}/{}", self.key(key))
    }

    /// Builds the model from `{"configs": …}`.
    pub fn from_raw(raw: RawDump, camel: bool) -> Dump {
        let mut d = Dump {
            camel,
            ..Dump::default()
        };
        let was_map = raw.configs.0.iter().any(|(k, _)| k.is_some());
        let mut versions = Vec::new();
        for (i, (key, e)) in raw.configs.0.into_iter().enumerate() {
            let base = match &key {
                Some(k) => format!("/configs/{}", escape_token(k)),
                None => format!("/configs/{i}"),
            };
            if let Some(t) = &e.type_url {
                versions.push(t.clone());
            }
            d.add_entry(&base, e);
        }
        let v2 = versions.iter().any(|t| t.contains(".v2alpha."));
        d.shape = match (was_map, v2) {
            _ if d.listeners.is_empty() && d.clusters.is_empty() && d.errors.is_empty() => {
                "Envoy config dump".into()
            }
            (true, _) => "Envoy config dump (configs object, Envoy ≤ 1.7)".into(),
            (false, true) => "Envoy config dump (envoy.admin.v2alpha)".into(),
            (false, false) => "Envoy config dump (envoy.admin.v3)".into(),
        };
        d.mark_active_errors();
        d
    }

    fn add_entry(&mut self, base: &str, e: RawEntry) {
        if let Some(n) = e.bootstrap.as_ref().and_then(|b| b.node.as_ref()) {
            self.node = self.node.take().or_else(|| ProxyNode::from_raw(n));
        }
        let t = e.type_url.as_deref().unwrap_or("");
        let listener_section = t.ends_with("ListenersConfigDump")
            || !e.static_listeners.is_empty()
            || !e.dynamic_listeners.is_empty()
            || !e.dynamic_active_listeners.is_empty();
        if listener_section {
            self.sections.listeners = true;
        }
        for (field, items, state) in [
            (
                "static_listeners",
                e.static_listeners,
                ListenerState::Static,
            ),
            (
                "dynamic_active_listeners",
                e.dynamic_active_listeners,
                ListenerState::Active,
            ),
            (
                "dynamic_warming_listeners",
                e.dynamic_warming_listeners,
                ListenerState::Warming,
            ),
            (
                "dynamic_draining_listeners",
                e.dynamic_draining_listeners,
                ListenerState::Draining,
            ),
        ] {
            for (j, s) in items.into_iter().enumerate() {
                if let Some(l) = s.listener {
                    let pointer = format!("{}/{j}/listener", self.ptr(base, field));
                    self.listeners.push(DumpListener {
                        listener: l,
                        state,
                        pointer,
                    });
                }
            }
        }
        for (j, dl) in e.dynamic_listeners.into_iter().enumerate() {
            let at = format!("{}/{j}", self.ptr(base, "dynamic_listeners"));
            self.add_dynamic(&at, dl);
        }
        // Per-item DynamicListener / StaticListener.
        if e.active_state.is_some()
            || e.warming_state.is_some()
            || e.draining_state.is_some()
            || e.error_state.is_some()
        {
            self.sections.listeners = true;
            self.add_dynamic(
                base,
                RawDynamicListener {
                    name: e.name.clone(),
                    active_state: e.active_state,
                    warming_state: e.warming_state,
                    draining_state: e.draining_state,
                    error_state: e.error_state,
                },
            );
        }
        if let Some(l) = e.listener {
            self.sections.listeners = true;
            let state = if t.contains("StaticListener") {
                ListenerState::Static
            } else {
                ListenerState::Active
            };
            self.listeners.push(DumpListener {
                listener: l,
                state,
                pointer: format!("{base}/listener"),
            });
        }
        if t.ends_with("ClustersConfigDump") {
            self.sections.clusters = true;
        }
        for (field, items, warming) in [
            ("static_clusters", e.static_clusters, false),
            ("dynamic_active_clusters", e.dynamic_active_clusters, false),
            ("dynamic_warming_clusters", e.dynamic_warming_clusters, true),
        ] {
            if !items.is_empty() {
                self.sections.clusters = true;
            }
            for (j, c) in items.into_iter().enumerate() {
                if let Some(cluster) = c.cluster {
                    let pointer = format!("{}/{j}/cluster", self.ptr(base, field));
                    self.clusters.push(DumpCluster {
                        cluster,
                        warming,
                        pointer,
                    });
                }
            }
        }
        if let Some(cluster) = e.cluster {
            self.sections.clusters = true;
            self.clusters.push(DumpCluster {
                cluster,
                warming: t.contains("Warming"),
                pointer: format!("{base}/cluster"),
            });
        }
        if t.ends_with("RoutesConfigDump") && !t.ends_with("ScopedRoutesConfigDump") {
            self.sections.routes = true;
        }
        for (field, items) in [
            ("static_route_configs", e.static_route_configs),
            ("dynamic_route_configs", e.dynamic_route_configs),
        ] {
            if !items.is_empty() {
                self.sections.routes = true;
            }
            for (j, r) in items.into_iter().enumerate() {
                if let Some(route) = r.route_config {
                    let pointer =
                        format!("{}/{j}/{}", self.ptr(base, field), self.key("route_config"));
                    self.routes.push(DumpRoute { route, pointer });
                }
            }
        }
        if let Some(route) = e.route_config {
            self.sections.routes = true;
            let pointer = self.ptr(base, "route_config");
            self.routes.push(DumpRoute { route, pointer });
        }
        if t.ends_with("EndpointsConfigDump") {
            self.sections.endpoints = true;
        }
        for (field, items) in [
            ("static_endpoint_configs", e.static_endpoint_configs),
            ("dynamic_endpoint_configs", e.dynamic_endpoint_configs),
        ] {
            if !items.is_empty() {
                self.sections.endpoints = true;
            }
            for (j, r) in items.into_iter().enumerate() {
                if let Some(assignment) = r.endpoint_config {
                    let pointer = format!(
                        "{}/{j}/{}",
                        self.ptr(base, field),
                        self.key("endpoint_config")
                    );
                    self.endpoints.push(DumpEndpoints {
                        assignment,
                        pointer,
                    });
                }
            }
        }
        if let Some(assignment) = e.endpoint_config {
            self.sections.endpoints = true;
            let pointer = self.ptr(base, "endpoint_config");
            self.endpoints.push(DumpEndpoints {
                assignment,
                pointer,
            });
        }
    }

    fn add_dynamic(&mut self, at: &str, dl: RawDynamicListener) {
        for (field, st, state) in [
            ("active_state", dl.active_state, ListenerState::Active),
            ("warming_state", dl.warming_state, ListenerState::Warming),
            ("draining_state", dl.draining_state, ListenerState::Draining),
        ] {
            if let Some(l) = st.and_then(|s| s.listener) {
                let pointer = format!("{}/listener", self.ptr(at, field));
                self.listeners.push(DumpListener {
                    listener: l,
                    state,
                    pointer,
                });
            }
        }
        if let Some(err) = dl.error_state {
            let name = dl.name.filter(|n| !n.is_empty());
            self.errors.push(ListenerError {
                name: name.clone(),
                details: err.details.unwrap_or_default().trim_end().to_string(),
                last_update_attempt: err.last_update_attempt,
                failed: err.failed_configuration,
                pointer: self.ptr(at, "error_state"),
                has_active: false,
            });
        }
    }

    fn mark_active_errors(&mut self) {
        for i in 0..self.errors.len() {
            let Some(name) = self.errors[i].name.clone() else {
                continue;
            };
            self.errors[i].has_active = self
                .listeners
                .iter()
                .any(|l| l.state == ListenerState::Active && l.listener.name() == name);
        }
    }

    /// Builds the model from a bare array of resources (`istioctl proxy-config … -o json`).
    pub fn from_array(items: Vec<serde_json::Value>, camel: bool) -> Result<Dump, String> {
        let mut d = Dump {
            camel,
            ..Dump::default()
        };
        let mut kinds = std::collections::BTreeSet::new();
        for (i, v) in items.into_iter().enumerate() {
            let pointer = format!("/{i}");
            let kind = resource_kind(&v);
            let err = |e: serde_json::Error| format!("{pointer}: not a valid {kind}: {e}");
            match kind {
                "Listener" => {
                    d.sections.listeners = true;
                    d.listeners.push(DumpListener {
                        listener: serde_json::from_value(v).map_err(err)?,
                        state: ListenerState::Active,
                        pointer,
                    });
                }
                "RouteConfiguration" => {
                    d.sections.routes = true;
                    d.routes.push(DumpRoute {
                        route: serde_json::from_value(v).map_err(err)?,
                        pointer,
                    });
                }
                "ClusterLoadAssignment" => {
                    d.sections.endpoints = true;
                    d.endpoints.push(DumpEndpoints {
                        assignment: serde_json::from_value(v).map_err(err)?,
                        pointer,
                    });
                }
                "Cluster" => {
                    d.sections.clusters = true;
                    d.clusters.push(DumpCluster {
                        cluster: serde_json::from_value(v).map_err(err)?,
                        warming: false,
                        pointer,
                    });
                }
                _ => {
                    return Err(format!(
                        "{pointer}: not an Envoy Listener, Cluster, RouteConfiguration or ClusterLoadAssignment"
                    ));
                }
            }
            kinds.insert(kind);
        }
        d.shape = format!(
            "array of {} (istioctl proxy-config -o json)",
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        );
        Ok(d)
    }

    /// Listeners that take connections: static and active.
    pub fn serving(&self) -> impl Iterator<Item = (usize, &DumpListener)> {
        self.listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| l.state.serves())
    }

    pub fn cluster(&self, name: &str) -> Option<&DumpCluster> {
        self.clusters
            .iter()
            .filter(|c| !c.warming)
            .chain(self.clusters.iter().filter(|c| c.warming))
            .find(|c| c.cluster.name() == name)
    }

    pub fn route(&self, name: &str) -> Option<&DumpRoute> {
        self.routes.iter().find(|r| r.route.name() == name)
    }

    pub fn assignment(&self, name: &str) -> Option<&DumpEndpoints> {
        self.endpoints
            .iter()
            .find(|e| e.assignment.cluster_name.as_deref() == Some(name))
    }

    /// The listener Istio's iptables redirect lands on (`use_original_dst`, e.g. 15001).
    pub fn hand_off_listener(&self) -> Option<(usize, &DumpListener)> {
        self.serving().find(|(_, l)| l.listener.hands_off())
    }
}

/// Which resource a bare-array element is, by its keys.
pub fn resource_kind(v: &serde_json::Value) -> &'static str {
    let Some(o) = v.as_object() else {
        return "unknown";
    };
    let has = |k: &str| o.contains_key(k) || o.contains_key(&camel_case(k));
    if has("filter_chains")
        || has("listener_filters")
        || has("default_filter_chain")
        || has("filter_chain_matcher")
        || has("internal_listener")
        || (has("address") && !has("cluster_name"))
    {
        "Listener"
    } else if has("virtual_hosts") {
        "RouteConfiguration"
    } else if has("cluster_name") || (has("endpoints") && !has("name")) {
        "ClusterLoadAssignment"
    } else if has("name") {
        "Cluster"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Dump {
        let camel = text.contains("filterChains") || text.contains("socketAddress");
        Dump::from_raw(serde_json::from_str(text).expect("parses"), camel)
    }

    #[test]
    fn reads_v2alpha_and_keyed_configs_with_camel_case_pointers() {
        let d = raw(
            r#"{"configs": {"listeners": {"@type": "type.googleapis.com/envoy.admin.v2alpha.ListenersConfigDump",
            "dynamicActiveListeners": [{"listener": {"name": "0.0.0.0_80",
              "address": {"socketAddress": {"address": "0.0.0.0", "portValue": 80}},
              "deprecatedV1": {"bindToPort": false},
              "filterChains": [{"filters": [{"name": "envoy.tcp_proxy", "config": {"cluster": "c"}}]}]}}]}}}"#,
        );
        assert!(d.shape.contains("Envoy ≤ 1.7"), "{}", d.shape);
        let l = &d.listeners[0];
        assert_eq!(
            l.pointer,
            "/configs/listeners/dynamicActiveListeners/0/listener"
        );
        assert_eq!(l.listener.ip_port(), Some(("0.0.0.0", 80)));
        assert!(!l.listener.binds());
        assert_eq!(
            l.listener.filter_chains[0].terminal(),
            Terminal::Tcp {
                filter: 0,
                clusters: vec!["c".into()]
            }
        );
    }

    #[test]
    fn odd_shapes_are_skipped_not_fatal() {
        // A filter config with a list where an object is expected, a string port, a
        // `{value: n}` wrapper, a CIDR string, and an error_state-only entry without a name.
        let d = raw(
            r#"{"configs": [{"@type": "x.ListenersConfigDump", "dynamic_listeners": [
            {"name": "a", "active_state": {"listener": {"name": "a",
              "address": {"socket_address": {"address": "10.0.0.1", "port_value": "81"}},
              "filter_chains": [{"filter_chain_match": {"prefix_ranges": [{"address_prefix": "10.0.0.0", "prefix_len": {"value": 8}}]},
                "filters": [{"name": "envoy.filters.network.dubbo_proxy", "typed_config": {"route_config": [1, 2]}},
                            {"name": "envoy.tcp_proxy", "config": {"deprecated_v1": true, "value": {"route_config": {"routes": [
                              {"cluster": "v1", "destination_ip_list": ["10.0.0.0/8"]}]}}}}]}]}}},
            {"error_state": {"details": "boom"}}]}]}"#,
        );
        let l = &d.listeners[0].listener;
        assert_eq!(l.ip_port(), Some(("10.0.0.1", 81)));
        let fcm = l.filter_chains[0].fcm();
        assert_eq!(fcm.prefix_ranges[0].len(), 8);
        assert!(fcm.prefix_ranges[0].contains("10.2.3.4".parse().unwrap()));
        assert_eq!(l.filter_chains[0].filters[1].tcp_clusters(), vec!["v1"]);
        assert_eq!(d.errors.len(), 1);
        assert_eq!(d.errors[0].name, None);
        assert_eq!(d.errors[0].details, "boom");
    }

    #[test]
    fn bare_arrays_are_classified() {
        let d = Dump::from_array(
            serde_json::from_str(
                r#"[{"clusterName": "c", "endpoints": [{"lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "1.2.3.4", "portValue": 80}}}, "healthStatus": "HEALTHY"}]}]},
                   {"name": "r", "virtualHosts": [{"domains": ["*"]}]},
                   {"name": "c", "type": "STRICT_DNS"}]"#,
            )
            .expect("json"),
            true,
        )
        .expect("classified");
        assert_eq!(
            d.endpoints[0].assignment.endpoints(),
            vec![("1.2.3.4:80".to_string(), "HEALTHY".to_string())]
        );
        assert_eq!(d.routes[0].route.name(), "r");
        assert_eq!(d.clusters[0].cluster.kind(), "STRICT_DNS");
        assert_eq!(camel_case("filter_chain_match"), "filterChainMatch");
    }

    #[test]
    fn cluster_names_parse() {
        let p = parse_cluster_name("outbound|5701||app-ext.app.svc.cluster.local").expect("ok");
        assert_eq!(
            (p.direction, p.port, p.subset, p.host),
            ("outbound", 5701, "", "app-ext.app.svc.cluster.local")
        );
        assert!(parse_cluster_name("PassthroughCluster").is_none());
    }
}
