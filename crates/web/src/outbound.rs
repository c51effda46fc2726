//! The guard on requests the server makes on its own: webhook posts and demo probes.
//!
//! Whoever may configure a webhook or an environment chooses where the server sends requests,
//! so without a guard they could reach what only the server can: a cloud metadata address, an
//! admin port on loopback, an internal service. The rules (docs/notifications.md,
//! docs/demo-readiness.md):
//! - webhooks never reach loopback, private, shared (CGNAT), link-local or metadata addresses,
//!   nor unspecified, multicast or broadcast ones;
//! - probes reach internal demo hosts (their purpose) but never link-local or metadata
//!   addresses, nor unspecified, multicast or broadcast ones;
//! - an allow-list in the configuration (`outbound_allow`: host names or networks such as
//!   `10.1.2.0/24`) lets an internal IM gateway or a demo host through.
//!
//! The check runs after name resolution, in the HTTP client's resolver, so a name that points
//! to a refused address is refused at the moment of connecting (no window between check and
//! use); an address written in the URL itself is checked before sending and on every redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// What a request is for; each purpose has its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A notification to a chat robot or a generic webhook.
    Webhook,
    /// A demo-environment probe.
    Probe,
}

/// Names and networks let through whatever the rules say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl AllowList {
    /// Reads entries such as `im.corp.example`, `10.1.2.3` or `10.1.2.0/24`; `Err` names the
    /// entry that is neither a host name nor an address nor a network.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, String> {
        let mut list = AllowList::default();
        for raw in entries {
            let e = raw.as_ref().trim();
            if e.is_empty() {
                continue;
            }
            if let Ok(net) = e.parse::<IpNet>() {
                list.nets.push(net);
            } else if let Ok(ip) = e.trim_matches(['[', ']']).parse::<IpAddr>() {
                list.nets.push(IpNet::from(canonical(ip)));
            } else if e
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !e.starts_with('.')
            {
                list.hosts
                    .push(e.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(format!(
                    "outbound_allow: '{e}' is neither a host name nor an address or a network \
                     / 不是主机名、地址或网段"
                ));
            }
        }
        Ok(list)
    }

    fn has_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    fn has_ip(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// Where a probe may follow a redirect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProbeRedirects {
    /// To the same scheme, host and port only (default): a demo login that redirects to its
    /// start page works, and the stored headers never travel to another host.
    #[default]
    SameHost,
    /// Never: the redirect itself is the answer the probe checks.
    None,
}

impl ProbeRedirects {
    /// Reads `same-host` or `none`.
    pub fn parse(s: &str) -> Result<ProbeRedirects, String> {
        match s.trim() {
            "same-host" | "same_host" => Ok(ProbeRedirects::SameHost),
            "none" => Ok(ProbeRedirects::None),
            other => Err(format!(
                "probe_redirects: '{other}' is not same-host or none / 只能是 same-host 或 none"
            )),
        }
    }
}

/// The settings of requests the server makes on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// Host names and networks let through the guard (`outbound_allow`).
    pub allow: Arc<AllowList>,
    /// Where probes may follow redirects (`probe_redirects`).
    pub probe_redirects: ProbeRedirects,
    /// Characters of an answer's body shown in a failure text, at most
    /// (`failure_excerpt_chars`; 0 shows none).
    pub excerpt_chars: usize,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            allow: Arc::default(),
            probe_redirects: ProbeRedirects::SameHost,
            excerpt_chars: 64,
        }
    }
}

impl OutboundConfig {
    /// The guard of `purpose` under these settings.
    pub fn guard(&self, purpose: Purpose) -> Guard {
        Guard::new(purpose, self.allow.clone())
    }

    /// At most [`OutboundConfig::excerpt_chars`] characters of `text`, marked when cut.
    pub fn excerpt(&self, text: &str) -> String {
        let mut chars = text.chars();
        let cut: String = chars.by_ref().take(self.excerpt_chars).collect();
        if chars.next().is_some() {
            format!("{cut}…")
        } else {
            cut
        }
    }
}

/// The rules for one purpose with the configured allow-list.
#[derive(Debug, Clone)]
pub struct Guard {
    purpose: Purpose,
    allow: Arc<AllowList>,
}

/// Why an address is refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The host as written.
    pub host: String,
    /// The address it resolved to.
    pub ip: IpAddr,
    /// What kind of address it is, in English.
    pub kind: &'static str,
    /// The same in Chinese.
    pub kind_zh: &'static str,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host == self.ip.to_string() {
            self.host.clone()
        } else {
            format!("{} ({})", self.host, self.ip)
        };
        write!(
            f,
            "{host} is a {} address, which the server does not reach; add it to outbound_allow \
             if it is meant / {host} 是{}地址，服务器不会访问；确需访问请加入 outbound_allow",
            self.kind, self.kind_zh
        )
    }
}

impl std::error::Error for Refused {}

impl Guard {
    /// The guard for `purpose`.
    pub fn new(purpose: Purpose, allow: Arc<AllowList>) -> Guard {
        Guard { purpose, allow }
    }

    /// `Err` when `ip`, reached as `host`, is not to be reached.
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        let ip = canonical(ip);
        if self.allow.has_host(host) || self.allow.has_ip(ip) {
            return Ok(());
        }
        match classify(ip) {
            Some((kind, kind_zh, reach)) if !reach.allows(self.purpose) => Err(Refused {
                host: host.to_string(),
                ip,
                kind,
                kind_zh,
            }),
            _ => Ok(()),
        }
    }

    /// Checks a URL before it is sent: only http and https, and an address written in the URL
    /// itself must pass (a name is checked when it is resolved).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "only http and https URLs are sent / 只发送 http 和 https 地址 ({})",
                url.scheme()
            ));
        }
        let Some(host) = url.host_str() else {
            return Err("the URL has no host / 地址缺少主机".to_string());
        };
        // A name is checked by the resolver when it is looked up; an address written in the
        // URL is never looked up, so it is checked here.
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => self.check_ip(host, ip).map_err(|r| r.to_string()),
            Err(_) => Ok(()),
        }
    }

    /// A resolver for the HTTP client that drops refused addresses, and fails when none is
    /// left, with the reason.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            guard: self.clone(),
        })
    }
}

/// Which purposes may reach a kind of address.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// Neither purpose.
    Never,
    /// Probes only (internal demo hosts).
    ProbesOnly,
}

impl Reach {
    fn allows(self, purpose: Purpose) -> bool {
        matches!((self, purpose), (Reach::ProbesOnly, Purpose::Probe))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:169.254.169.254`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Metadata services of the clouds in use: AWS, GCP, Azure, OpenStack (169.254.169.254),
/// Alibaba Cloud (100.100.100.200), Tencent Cloud (169.254.0.23), AWS over IPv6.
const METADATA_V4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(169, 254, 0, 23),
];
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// The kind of a special address, and who may reach it; `None` for a public address.
fn classify(ip: IpAddr) -> Option<(&'static str, &'static str, Reach)> {
    use Reach::*;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if METADATA_V4.contains(&v4) {
                Some(("cloud metadata", "云元数据", Never))
            } else if v4.is_unspecified() || o[0] == 0 {
                Some(("unspecified", "未指定", Never))
            } else if v4.is_broadcast() || v4.is_multicast() {
                Some(("broadcast or multicast", "广播或组播", Never))
            } else if v4.is_link_local() {
                Some(("link-local", "链路本地", Never))
            } else if v4.is_loopback() {
                Some(("loopback", "本机回环", ProbesOnly))
            } else if v4.is_private() {
                Some(("private", "内网", ProbesOnly))
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some(("shared (carrier-grade NAT)", "运营商共享", ProbesOnly))
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6 == METADATA_V6 {
                Some(("cloud metadata", "云元数据", Never))
            } else if v6.is_unspecified() {
                Some(("unspecified", "未指定", Never))
            } else if v6.is_multicast() {
                Some(("broadcast or multicast", "广播或组播", Never))
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some(("link-local", "链路本地", Never))
            } else if v6.is_loopback() {
                Some(("loopback", "本机回环", ProbesOnly))
            } else if (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfec0 {
                Some(("private", "内网", ProbesOnly))
            } else {
                None
            }
        }
    }
}

/// The HTTP client's resolver under a [`Guard`].
#[derive(Debug)]
pub struct GuardedResolver {
    guard: Guard,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match guard.check_ip(&host, a.ip()) {
                    Ok(()) => true,
                    Err(r) => {
                        refused.get_or_insert(r);
                        false
                    }
                })
                .collect();
            if kept.is_empty() {
                return Err(match refused {
                    Some(r) => Box::new(r) as Box<dyn std::error::Error + Send + Sync>,
                    None => format!("{host}: no address / 无法解析").into(),
                });
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(purpose: Purpose, allow: &[&str]) -> Guard {
        Guard::new(purpose, Arc::new(AllowList::parse(allow).unwrap()))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn webhooks_reach_only_public_addresses() {
        let g = guard(Purpose::Webhook, &[]);
        for refused in [
            "169.254.169.254",
            "100.100.100.200",
            "127.0.0.1",
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::7",
            "::ffff:169.254.169.254",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(g.check_ip("h", ip(refused)).is_err(), "{refused} refused");
        }
        for allowed in ["8.8.8.8", "203.119.1.1", "2400:3200::1", "100.128.0.1"] {
            assert!(g.check_ip("h", ip(allowed)).is_ok(), "{allowed} allowed");
        }
    }

    #[test]
    fn probes_reach_internal_hosts_but_not_metadata_or_link_local() {
        let g = guard(Purpose::Probe, &[]);
        for allowed in ["127.0.0.1", "10.0.0.5", "192.168.1.1", "::1", "8.8.8.8"] {
            assert!(g.check_ip("h", ip(allowed)).is_ok(), "{allowed} allowed");
        }
        for refused in [
            "169.254.169.254",
            "169.254.10.1",
            "fe80::1",
            "100.100.100.200",
        ] {
            let err = g.check_ip("h", ip(refused)).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("outbound_allow") && text.contains("地址"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_allow_list_lets_named_hosts_and_networks_through() {
        let g = guard(
            Purpose::Webhook,
            &["im.corp.example", "10.1.2.0/24", "127.0.0.1"],
        );
        assert!(g.check_ip("IM.corp.example.", ip("10.9.9.9")).is_ok());
        assert!(g.check_ip("other", ip("10.1.2.200")).is_ok());
        assert!(g.check_ip("other", ip("10.1.3.1")).is_err());
        assert!(g.check_ip("x", ip("::ffff:127.0.0.1")).is_ok());
        assert!(AllowList::parse(&["not a host!"]).is_err());
    }

    #[test]
    fn urls_are_checked_for_their_scheme_and_written_addresses() {
        let g = guard(Purpose::Webhook, &[]);
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(g
            .check_url(&url("http://169.254.169.254/latest/meta-data/"))
            .is_err());
        assert!(g.check_url(&url("http://[::ffff:a9fe:a9fe]/")).is_err());
        assert!(g.check_url(&url("file:///etc/passwd")).is_err());
        assert!(g
            .check_url(&url("https://oapi.dingtalk.com/robot/send"))
            .is_ok());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_a_refused_address_is_refused_when_connecting() {
        use reqwest::dns::Resolve as _;
        let r = guard(Purpose::Webhook, &[]).resolver();
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = r.resolve(name).await.err().expect("localhost is refused");
        assert!(err.to_string().contains("loopback"), "{err}");
        let r = guard(Purpose::Webhook, &["localhost"]).resolver();
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(r.resolve(name).await.is_ok());
    }
}
