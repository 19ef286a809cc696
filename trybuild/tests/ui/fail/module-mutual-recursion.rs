#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "walk")]
    pub fn walk(dir: &str) -> Result<usize, Error> {
        visit(dir)
    }

    fn visit(dir: &str) -> Result<usize, Error> {
        match dir.rsplit_once('/') {
            Some((parent, _)) => walk(parent),
            None => Ok(0),
        }
    }
}

fn main() {
    let _ = jobs::walk;
}
