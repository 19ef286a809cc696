// Calls of a function to itself: reported by `#[mysql_lock::jobs]`, which
// sees where each function is (a function's own attribute can't tell a
// free function from an associated one, or an inherent impl from a trait
// impl, where the same name may mean another function).
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "countdown")]
    pub fn countdown(n: u32) -> Result<u32, Error> {
        if n == 0 {
            return Ok(0);
        }
        countdown(n - 1)
    }

    pub struct Tree {
        children: Vec<Tree>,
    }

    impl Tree {
        #[mysql_lock(name = "tree")]
        pub fn size(&self) -> Result<usize, Error> {
            let mut size = 1;
            for child in &self.children {
                size += child.size()?; // another value: not followed
            }
            Ok(size + self.depth()?)
        }

        #[mysql_lock(name = "tree-depth")]
        fn depth(&self) -> Result<usize, Error> {
            if self.children.is_empty() {
                return Ok(0);
            }
            Ok(1 + self.depth()?)
        }

        #[mysql_lock(name = "tree-build")]
        pub fn build(levels: u32) -> Result<Self, Error> {
            let children = if levels == 0 {
                Vec::new()
            } else {
                vec![Self::build(levels - 1)?]
            };
            Ok(Tree { children })
        }
    }
}

fn main() {
    let _ = jobs::countdown;
    let _ = jobs::Tree::size;
    let _ = jobs::Tree::build;
}
