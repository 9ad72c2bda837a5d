//! Visibility: which records a user may see. The app computes a [`Visibility`] for the user in
//! one place; every list, detail, search, count and export in the store filters through
//! [`Visibility::clause`].

use crate::db::Arg;

/// What a user may see: the org units of its subtree, narrowed for technicians (own orders) and
/// partners (orders given to their unit).
#[derive(Debug, Clone, PartialEq)]
pub struct Visibility {
    pub units: Vec<i64>,
    pub technician_id: Option<i64>,
    pub partner_unit_id: Option<i64>,
    /// `units` is the whole org (head office's users): the unit condition holds for every
    /// row and is left out, so an index on the list's own filter and order serves it alone.
    pub all_units: bool,
}

/// The kinds of record that are scoped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoped {
    WorkOrder,
    Customer,
    Device,
    /// Records owned by a unit (technicians, users, org units' own `id`).
    Unit,
    OrgUnit,
    /// A lookup row (`search_docs`): a customer or a device.
    SearchDoc,
    /// A KPI fact row (`kpi_facts`): scoped like its order, a technician's own through the
    /// technician it is attributed to.
    KpiFact,
}

/// A query under construction: SQL text with `$n` placeholders and their values.
#[derive(Debug, Default, Clone)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Binds a value and returns its placeholder.
    pub fn arg(&mut self, v: impl Into<Arg>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    /// Appends `text` where `{}` stands for the placeholder of `v`.
    pub fn push_bind(&mut self, text: &str, v: impl Into<Arg>) -> &mut Self {
        let p = self.arg(v);
        self.text.push_str(&text.replace("{}", &p));
        self
    }
}

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Visibility {
    /// Everything (used by jobs and the demo generator, never for a request).
    pub fn everything(units: Vec<i64>) -> Visibility {
        Visibility {
            units,
            technician_id: None,
            partner_unit_id: None,
            all_units: false,
        }
    }

    /// A boolean SQL condition on the record aliased `a`, appended to `q`.
    pub fn clause(&self, what: Scoped, a: &str, q: &mut Sql) -> String {
        let units = if self.all_units {
            String::new()
        } else {
            id_list(&self.units)
        };
        let in_units = |col: &str| {
            if self.all_units {
                "1 = 1".to_string()
            } else {
                format!("{a}.{col} IN ({units})")
            }
        };
        let order_filter = |q: &mut Sql| -> Option<String> {
            if let Some(t) = self.technician_id {
                Some(format!("technician_id = {}", q.arg(t)))
            } else {
                self.partner_unit_id
                    .map(|p| format!("partner_unit_id = {}", q.arg(p)))
            }
        };
        match what {
            Scoped::WorkOrder => match order_filter(q) {
                Some(f) => format!("{a}.{f}"),
                None => in_units("org_unit_id"),
            },
            Scoped::Customer | Scoped::Device => {
                let col = if what == Scoped::Customer {
                    "customer_id"
                } else {
                    "device_id"
                };
                match order_filter(q) {
                    Some(f) => format!(
                        "EXISTS (SELECT 1 FROM work_orders so WHERE so.{col} = {a}.id AND so.{f})"
                    ),
                    None => in_units("org_unit_id"),
                }
            }
            Scoped::Unit => {
                if self.technician_id.is_some() || self.partner_unit_id.is_some() {
                    // Technicians and partners see only themselves among units' records.
                    "1 = 0".to_string()
                } else {
                    in_units("org_unit_id")
                }
            }
            Scoped::OrgUnit => in_units("id"),
            Scoped::KpiFact => match order_filter(q) {
                Some(f) => format!("{a}.{f}"),
                None => in_units("org_unit_id"),
            },
            Scoped::SearchDoc => match order_filter(q) {
                Some(f) => format!(
                    "EXISTS (SELECT 1 FROM work_orders so WHERE so.{f} AND \
                     ((({a}.kind = 'customer') AND so.customer_id = {a}.ref_id) OR \
                      (({a}.kind = 'device') AND so.device_id = {a}.ref_id)))"
                ),
                // Typed as the column: PostgreSQL's index on (org_unit_id, doc) (btree_gin)
                // has no bigint = integer operator, so an untyped literal would leave the unit
                // out of the index and test it on every row the fragment matches.
                None if !self.all_units && !self.units.is_empty() => format!(
                    "{a}.org_unit_id IN ({})",
                    self.units
                        .iter()
                        .map(|u| format!("CAST({u} AS BIGINT)"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                None => in_units("org_unit_id"),
            },
        }
    }
}
