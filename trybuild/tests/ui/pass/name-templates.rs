//! Lock names built from the arguments: several parameters, fields of
//! `self` and of parameters, tuple indices, generic `Display` arguments,
//! escaped braces, and templates stacked with constant names.

use mysql_lock::{mysql_lock, Error};
use std::fmt::Display;

#[mysql_lock(name = "invoice:{tenant}:{id}", timeout = 2)]
fn settle(tenant: &str, id: u64, mut amount: u64) -> Result<u64, Error> {
    amount += 1;
    Ok(amount)
}

#[mysql_lock(name = "{{literal}}:{key}")]
fn escaped<K: Display>(key: K) -> Result<String, Error> {
    // The argument may be moved in the body: the name was formatted first.
    Ok(key.to_string())
}

struct Order {
    id: u32,
    pair: (u8, u16),
}

#[mysql_lock(name = "order:{order.id}:{order.pair.1}")]
fn ship(order: Order) -> Result<Order, Error> {
    Ok(order)
}

struct Account {
    tenant: String,
    number: u64,
}

impl Account {
    #[mysql_lock(name = "account:{self.tenant}/{self.number}")]
    fn close(&mut self, reason: &str) -> Result<(), Error> {
        self.number = 0;
        let _ = reason;
        Ok(())
    }

    #[mysql_lock(name = "account:{self.tenant}")]
    #[mysql_lock(name = "transfer:{to}")]
    #[mysql_lock(name = "transfers")]
    fn transfer(self, to: u64) -> Result<Self, Error> {
        Ok(Account { number: to, ..self })
    }
}

// The same template on another alias is another lock.
#[mysql_lock(name = "region:{region}")]
#[mysql_lock(name = "region:{region}", using = "replica")]
fn rebalance(region: u8) -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "tracked:{id}")]
#[track_caller]
fn tracked(id: u8) -> Result<u8, Error> {
    Ok(id)
}

// In a checked module, templates are compared with nothing: `transfer`
// holding "account:{from}" may call `credit` taking "account:{to}" (the
// same lock only when `from == to`, which the runtime refuses as
// `Error::Reentrant`).
#[mysql_lock::jobs]
mod per_entity {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "account:{from}")]
    pub fn transfer(from: u64, to: u64) -> Result<(), Error> {
        credit(to)?;
        transfer_back(to, from)
    }

    #[mysql_lock(name = "account:{to}")]
    pub fn credit(to: u64) -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "account:{to}")]
    pub fn transfer_back(to: u64, from: u64) -> Result<(), Error> {
        let _ = (to, from);
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = per_entity::transfer;
    let _ = settle;
    let _ = escaped::<u8>;
    let _ = ship;
    let _ = Account::close;
    let _ = Account::transfer;
    let _ = rebalance;
    let _ = tracked;
}
