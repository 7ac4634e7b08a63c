use super::*;

fn p(pid: u32, comm: &str, args: &[&str], ports: &[u16]) -> Proc {
    Proc {
        pid,
        comm: comm.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        udp_ports: ports.to_vec(),
    }
}

#[test]
fn known_programs_by_name_others_by_port_only_where_we_serve() {
    let all: BTreeSet<Role> = [Role::Ra, Role::Dhcpv6Server, Role::Dhcpv6Client].into();
    let procs = [
        p(10, "odhcpd", &["/usr/sbin/odhcpd"], &[]),
        p(11, "dnsmasq", &["dnsmasq"], &[547]),
        p(12, "dnsmasq", &["dnsmasq"], &[]),
        p(13, "dhcpd", &["dhcpd", "-4"], &[]),
        p(14, "dhcpd", &["dhcpd", "-6", "-cf", "x"], &[]),
        p(15, "v6routerd", &["v6routerd"], &[547, 546]),
        p(16, "odhcp6c", &["odhcp6c", "wan"], &[546]),
    ];
    let r = find(&procs, &all);
    let got: Vec<(u32, Vec<Role>)> = r.iter().map(|r| (r.pid, r.roles.clone())).collect();
    assert_eq!(
        got,
        [
            (10, vec![Role::Ra, Role::Dhcpv6Server]),
            (11, vec![Role::Dhcpv6Server]),
            (14, vec![Role::Dhcpv6Server]),
            (16, vec![Role::Dhcpv6Client]),
        ]
    );
    assert!(r[0].to_string().contains("/etc/init.d/odhcpd disable"));
    assert!(r[1].to_string().contains("stop it or keep it off"));
    // Only RA served: odhcpd counts for its RAs, the DHCPv6 ones not.
    let ra_only: BTreeSet<Role> = [Role::Ra].into();
    let r = find(&procs, &ra_only);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].roles, [Role::Ra]);
    assert!(find(&procs, &BTreeSet::new()).is_empty());
}

#[test]
fn bound_sockets_from_proc_net_udp6() {
    // Two lines as Linux prints them: [::]:547 and [::1]:53.
    let table = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
  263: 00000000000000000000000000000000:0223 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123456 2 0000000000000000 0\n\
  301: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0\n\
  garbage\n";
    assert_eq!(bound_inodes(table, 547), [123456]);
    assert_eq!(bound_inodes(table, 53), [777]);
    assert!(bound_inodes(table, 546).is_empty());
    assert!(bound_inodes("", 547).is_empty());
}
