//! The values the sidecar injector accepts for its annotations (istio/istio
//! `pkg/kube/inject/validate.go`, `AnnotationValidation`). The injector checks them before it
//! injects a pod and refuses the pod when one fails.

use ipnet::IpNet;

/// Checks `value` of annotation `name`; `Err` says what is wrong. Annotations the injector
/// does not validate are accepted.
pub fn validate(name: &str, value: &str) -> Result<(), String> {
    match name {
        "sidecar.istio.io/interceptionMode" => match value {
            "REDIRECT" | "TPROXY" | "NONE" => Ok(()),
            _ => Err("must be REDIRECT, TPROXY or NONE".into()),
        },
        "status.sidecar.istio.io/port" => port(value.trim()).map(drop),
        "readiness.status.sidecar.istio.io/initialDelaySeconds"
        | "readiness.status.sidecar.istio.io/periodSeconds"
        | "readiness.status.sidecar.istio.io/failureThreshold" => value
            .parse::<u32>()
            .map(drop)
            .map_err(|_| "must be a whole number of at most 4294967295".into()),
        "traffic.sidecar.istio.io/includeOutboundIPRanges" if value == "*" => Ok(()),
        "traffic.sidecar.istio.io/includeOutboundIPRanges"
        | "traffic.sidecar.istio.io/excludeOutboundIPRanges" => cidrs(value),
        "traffic.sidecar.istio.io/includeInboundPorts" if value == "*" => Ok(()),
        "traffic.sidecar.istio.io/includeInboundPorts"
        | "traffic.sidecar.istio.io/excludeInboundPorts"
        | "traffic.sidecar.istio.io/excludeOutboundPorts" => ports(value),
        "traffic.sidecar.istio.io/excludeInterfaces"
        | "traffic.sidecar.istio.io/kubevirtInterfaces"
        | "istio.io/reroute-virtual-interfaces" => interfaces(value),
        "prometheus.istio.io/merge-metrics" => boolean(value),
        "sidecar.istio.io/proxyCPU"
        | "sidecar.istio.io/proxyMemory"
        | "sidecar.istio.io/proxyCPULimit"
        | "sidecar.istio.io/proxyMemoryLimit" => quantity(value),
        _ => Ok(()),
    }
}

/// Go's `strconv.ParseUint(s, 10, 16)`.
fn port(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .map_err(|_| format!("`{s}` is not a port number (0-65535)"))
}

/// A comma-separated port list; empty is allowed.
fn ports(value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(());
    }
    value.split(',').try_for_each(|p| port(p.trim()).map(drop))
}

/// A comma-separated CIDR list; empty is allowed, spaces are not (Go's `netip.ParsePrefix`).
fn cidrs(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    value.split(',').try_for_each(|c| {
        c.parse::<IpNet>()
            .map(drop)
            .map_err(|_| format!("`{c}` is not a CIDR such as 10.0.0.0/8"))
    })
}

/// Linux interface names (istio's `ValidateInterfaceNames`).
fn interfaces(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    value.split(',').map(str::trim).try_for_each(|name| {
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if name.is_empty() {
            Err("an interface name is empty".into())
        } else if name.len() > 15 {
            Err(format!(
                "interface name `{name}` is longer than 15 characters"
            ))
        } else if !valid {
            Err(format!("interface name `{name}` has invalid characters"))
        } else {
            Ok(())
        }
    })
}

/// Go's `strconv.ParseBool`.
fn boolean(value: &str) -> Result<(), String> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false"
        | "False" => Ok(()),
        _ => Err("must be true or false".into()),
    }
}

/// A Kubernetes resource quantity (`resource.ParseQuantity`): a signed decimal number and an
/// optional suffix: Ki..Ei, n, u, m, k, M..E, or an exponent `e<int>`.
fn quantity(value: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "`{value}` is not a resource quantity such as 100m or 128Mi"
        ))
    };
    let s = value.strip_prefix(['+', '-']).unwrap_or(value);
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits_end);
    let dots = number.matches('.').count();
    if dots > 1 || number.is_empty() || number == "." {
        return bad();
    }
    let exponent = suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e));
    let ok = match exponent {
        Some(e) => !e.is_empty() && e.chars().all(|c| c.is_ascii_digit()),
        None => matches!(
            suffix,
            "" | "Ki"
                | "Mi"
                | "Gi"
                | "Ti"
                | "Pi"
                | "Ei"
                | "n"
                | "u"
                | "m"
                | "k"
                | "M"
                | "G"
                | "T"
                | "P"
                | "E"
        ),
    };
    if ok { Ok(()) } else { bad() }
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_what_the_injector_accepts() {
        for (name, value) in [
            ("sidecar.istio.io/interceptionMode", "TPROXY"),
            ("status.sidecar.istio.io/port", " 15020 "),
            ("readiness.status.sidecar.istio.io/periodSeconds", "10"),
            ("traffic.sidecar.istio.io/includeOutboundIPRanges", "*"),
            (
                "traffic.sidecar.istio.io/includeOutboundIPRanges",
                "10.0.0.0/8,fd00::/8",
            ),
            ("traffic.sidecar.istio.io/excludeOutboundIPRanges", ""),
            ("traffic.sidecar.istio.io/includeInboundPorts", "*"),
            (
                "traffic.sidecar.istio.io/excludeInboundPorts",
                " 15020, 8080",
            ),
            (
                "traffic.sidecar.istio.io/excludeInterfaces",
                "eth1,veth-a.1",
            ),
            ("prometheus.istio.io/merge-metrics", "False"),
            ("sidecar.istio.io/proxyCPU", "100m"),
            ("sidecar.istio.io/proxyMemory", "1.5Gi"),
            ("sidecar.istio.io/proxyMemoryLimit", "1e9"),
            ("sidecar.istio.io/proxyCPULimit", "+.5"),
            ("sidecar.istio.io/proxyImage", "anything"),
        ] {
            assert_eq!(validate(name, value), Ok(()), "{name}: {value}");
        }
    }

    #[test]
    fn rejects_what_the_injector_rejects() {
        for (name, value) in [
            ("sidecar.istio.io/interceptionMode", "redirect"),
            ("status.sidecar.istio.io/port", "70000"),
            (
                "readiness.status.sidecar.istio.io/initialDelaySeconds",
                "bar",
            ),
            ("readiness.status.sidecar.istio.io/periodSeconds", " 10"),
            (
                "traffic.sidecar.istio.io/includeOutboundIPRanges",
                "10.0.0.0",
            ),
            (
                "traffic.sidecar.istio.io/excludeOutboundIPRanges",
                "10.0.0.0/8, 10.1.0.0/16",
            ),
            ("traffic.sidecar.istio.io/excludeInboundPorts", "8080,http"),
            ("traffic.sidecar.istio.io/excludeInterfaces", "1eth"),
            (
                "traffic.sidecar.istio.io/excludeInterfaces",
                "a-very-long-interface",
            ),
            ("traffic.sidecar.istio.io/excludeInterfaces", "eth0,"),
            ("prometheus.istio.io/merge-metrics", "yes"),
            ("sidecar.istio.io/proxyCPU", "100 m"),
            ("sidecar.istio.io/proxyMemory", "1GB"),
            ("sidecar.istio.io/proxyMemory", ""),
            ("sidecar.istio.io/proxyMemoryLimit", "1.2.3"),
        ] {
            assert!(validate(name, value).is_err(), "{name}: {value}");
        }
    }
}
