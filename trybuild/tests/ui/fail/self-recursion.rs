use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "countdown")]
fn countdown(n: u32) -> Result<u32, Error> {
    if n == 0 {
        return Ok(0);
    }
    countdown(n - 1)
}

struct Tree {
    children: Vec<Tree>,
}

impl Tree {
    #[mysql_lock(name = "tree")]
    fn size(&self) -> Result<usize, Error> {
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
    fn build(levels: u32) -> Result<Self, Error> {
        let children = if levels == 0 {
            Vec::new()
        } else {
            vec![Self::build(levels - 1)?]
        };
        Ok(Tree { children })
    }
}

fn main() {
    let _ = countdown;
    let _ = Tree::size;
    let _ = Tree::build;
}
