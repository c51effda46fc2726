//! Roles of DESIGN.md and what each may do.

use crate::values::ParseError;

/// A person's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the workspace: users, settings, everything.
    Admin,
    /// Product manager: everything but user administration.
    Pm,
    /// Pre-sales engineer: customers, deals, promises.
    Presales,
    /// Implementation consultant: promises and their delivery.
    Implementation,
    /// Research and development: the catalogue.
    Rnd,
    /// Sales: customers, deals, promises.
    Sales,
    /// Leadership: customers and deals.
    Leader,
    /// Reads everything, writes nothing.
    Viewer,
}

/// Something a role may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read anything in the workspace.
    Read,
    /// Create and change products and features.
    EditCatalogue,
    /// Create and change customers and deals.
    EditCustomers,
    /// Record promises (commitments) and their criteria.
    RecordPromise,
    /// Move commitments through their life and mark criteria met.
    ChangeCommitment,
    /// Create API tokens for oneself.
    UseTokens,
    /// Add users and change roles.
    ManageUsers,
    /// Create releases, which move their features to `released`.
    ManageReleases,
    /// Deliver a release to customers, which marks their commitments `delivered`.
    DeliverRelease,
    /// Create or rotate a customer's read-only status link.
    ShareStatusLink,
    /// File a request (需求) on someone's behalf or one's own.
    CreateRequest,
    /// Decide on requests (triage), link them to features, rotate the intake link.
    TriageRequests,
    /// Create and change demo environments and their probes, and run probes now.
    EditEnvironments,
    /// Plan demos and run their readiness checks.
    RunDemos,
    /// Record one's own time (hats).
    LogTime,
    /// Record or remove time for somebody else.
    LogTimeForOthers,
    /// Add, change and remove webhooks, and see and rotate the calendar link.
    ManageWebhooks,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Pm,
        Role::Presales,
        Role::Implementation,
        Role::Rnd,
        Role::Sales,
        Role::Leader,
        Role::Viewer,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Pm => "pm",
            Role::Presales => "presales",
            Role::Implementation => "implementation",
            Role::Rnd => "rnd",
            Role::Sales => "sales",
            Role::Leader => "leader",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ParseError::one_of("role", s, &Role::ALL.map(Role::as_str)))
    }

    /// Whether this role may do `p`. The one table of who may do what.
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match p {
            Read | UseTokens => true,
            ManageUsers => self == Admin,
            EditCatalogue => matches!(self, Admin | Pm | Rnd),
            EditCustomers => matches!(self, Admin | Pm | Presales | Sales | Leader),
            RecordPromise => matches!(self, Admin | Pm | Presales | Sales | Implementation),
            ChangeCommitment => matches!(self, Admin | Pm | Presales | Implementation),
            ManageReleases => matches!(self, Admin | Pm | Rnd),
            DeliverRelease => matches!(self, Admin | Pm | Implementation),
            ShareStatusLink => matches!(self, Admin | Pm),
            CreateRequest => self != Viewer,
            TriageRequests => matches!(self, Admin | Pm),
            EditEnvironments => matches!(self, Admin | Pm | Presales),
            RunDemos => matches!(self, Admin | Pm | Presales | Sales),
            LogTime => self != Viewer,
            LogTimeForOthers => matches!(self, Admin | Pm),
            ManageWebhooks => matches!(self, Admin | Pm),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_writes_nothing_and_an_admin_everything() {
        use Permission::*;
        for p in [
            EditCatalogue,
            EditCustomers,
            RecordPromise,
            ChangeCommitment,
            ManageUsers,
            ManageReleases,
            DeliverRelease,
            ShareStatusLink,
            CreateRequest,
            TriageRequests,
            EditEnvironments,
            RunDemos,
            LogTime,
            LogTimeForOthers,
            ManageWebhooks,
        ] {
            assert!(!Role::Viewer.can(p), "{p:?}");
            assert!(Role::Admin.can(p), "{p:?}");
        }
        assert!(Role::Viewer.can(Read));
        assert!(!Role::Pm.can(ManageUsers));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
    }

    #[test]
    fn who_ships_and_who_delivers() {
        use Permission::*;
        let may =
            |p: Permission| -> Vec<Role> { Role::ALL.into_iter().filter(|r| r.can(p)).collect() };
        assert_eq!(may(ManageReleases), [Role::Admin, Role::Pm, Role::Rnd]);
        assert_eq!(
            may(DeliverRelease),
            [Role::Admin, Role::Pm, Role::Implementation]
        );
        assert_eq!(may(ShareStatusLink), [Role::Admin, Role::Pm]);
    }

    #[test]
    fn everyone_but_a_viewer_files_requests_and_product_triages_them() {
        for r in Role::ALL {
            assert_eq!(r.can(Permission::CreateRequest), r != Role::Viewer, "{r}");
            assert_eq!(
                r.can(Permission::TriageRequests),
                matches!(r, Role::Admin | Role::Pm),
                "{r}"
            );
        }
    }

    #[test]
    fn demos_belong_to_presales_and_sales() {
        use Permission::*;
        let may = |p| {
            Role::ALL
                .into_iter()
                .filter(|r| r.can(p))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            may(EditEnvironments),
            [Role::Admin, Role::Pm, Role::Presales]
        );
        assert_eq!(
            may(RunDemos),
            [Role::Admin, Role::Pm, Role::Presales, Role::Sales]
        );
    }

    #[test]
    fn product_manages_notifications() {
        for r in Role::ALL {
            assert_eq!(
                r.can(Permission::ManageWebhooks),
                matches!(r, Role::Admin | Role::Pm),
                "{r}"
            );
        }
    }
}
