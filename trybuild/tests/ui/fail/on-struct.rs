use mysql_lock::mysql_lock;

#[mysql_lock(name = "job")]
struct Job {
    id: u64,
}

fn main() {
    // The struct is still there: no error cascades from it.
    let job = Job { id: 1 };
    let _ = job.id;
}
