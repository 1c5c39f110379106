//! Result tables for the terminal (aligned columns) or for a document (Markdown, `--markdown`).

/// A captioned table of text cells.
pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(caption: impl Into<String>, head: &[&str]) -> Table {
        Table {
            caption: caption.into(),
            head: head.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// The table in `format`, caption first, ending with a blank line.
    pub fn render(&self, markdown: bool) -> String {
        let mut out = format!("{}\n\n", self.caption);
        if markdown {
            let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
            out += &line(&self.head);
            out += &format!("|{}\n", "---|".repeat(self.head.len()));
            for row in &self.rows {
                out += &line(row);
            }
        } else {
            let widths: Vec<usize> = (0..self.head.len())
                .map(|c| {
                    std::iter::once(&self.head)
                        .chain(&self.rows)
                        .filter_map(|r| r.get(c))
                        .map(|cell| cell.chars().count())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: &[String]| {
                let padded: Vec<String> = cells
                    .iter()
                    .zip(&widths)
                    .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                    .collect();
                format!("{}\n", padded.join("  ").trim_end())
            };
            out += &line(&self.head);
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out += &line(&rule);
            for row in &self.rows {
                out += &line(row);
            }
        }
        out + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new("Two rows.", &["what", "σ"]);
        t.rows.push(vec!["a long name".into(), "0.1".into()]);
        t.rows.push(vec!["b".into(), "80".into()]);
        t
    }

    #[test]
    fn markdown_has_a_header_rule_and_one_line_per_row() {
        let text = table().render(true);
        assert_eq!(
            text,
            "Two rows.\n\n| what | σ |\n|---|---|\n| a long name | 0.1 |\n| b | 80 |\n\n"
        );
    }

    #[test]
    fn plain_text_lines_up_its_columns() {
        let text = table().render(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "Two rows.",
                "",
                "what         σ",
                "-----------  ---",
                "a long name  0.1",
                "b            80",
                "",
            ]
        );
    }
}
