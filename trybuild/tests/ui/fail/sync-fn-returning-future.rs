use mysql_lock::{mysql_lock, Error};
use std::future::Future;
use std::pin::Pin;

#[mysql_lock(name = "impl")]
fn returns_impl() -> impl Future<Output = Result<(), Error>> {
    async { Ok(()) }
}

#[mysql_lock(name = "boxed")]
fn returns_boxed() -> Result<Pin<Box<dyn Future<Output = ()> + Send>>, Error> {
    Ok(Box::pin(async {}))
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[mysql_lock(name = "box-future")]
fn returns_box_future() -> anyhow::Result<BoxFuture<'static, u8>> {
    Ok(Box::pin(async { 1 }))
}

fn main() {
    let _ = (returns_impl, returns_boxed, returns_box_future);
}
