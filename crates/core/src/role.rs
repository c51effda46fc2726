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
    /// Record one's own time (hats).
    LogTime,
    /// Record or remove time for somebody else.
    LogTimeForOthers,
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
            LogTime => self != Viewer,
            LogTimeForOthers => matches!(self, Admin | Pm),
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
            LogTime,
            LogTimeForOthers,
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
}
