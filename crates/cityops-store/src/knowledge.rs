//! The knowledge base and the enquiries answered from it, as stored: each a JSON document
//! beside the columns its reads filter on. Every write is on the audit log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cityops_domain::knowledge::{Article, Enquiry};

use crate::dialect::{Columns, Dialect};
use crate::sql::AuditPolicy;
use crate::statement::Statement;
use crate::{SqlStore, StoreError, StoreResult};

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Every article, by title.
    async fn articles(&self) -> StoreResult<Vec<Article>>;
    async fn article(&self, id: &str) -> StoreResult<Option<Article>>;
    /// Adds an article (version 1); on the audit log as `knowledge.create`.
    async fn create_article(&self, article: &Article) -> StoreResult<()>;
    /// Writes an edited article whose version is one more than the stored one; a stale
    /// version is [`StoreError::Conflict`] and a missing article `Ok(false)`. On the audit log
    /// as `knowledge.update`.
    async fn update_article(&self, article: &Article) -> StoreResult<bool>;
    /// Deletes an article; false when there was none. On the audit log as `knowledge.delete`.
    async fn delete_article(&self, id: &str) -> StoreResult<bool>;
    /// Records an enquiry answered on the call, with the idempotency key it claims (if any)
    /// in the same transaction: [`StoreError::Claimed`] when the key is held already, and
    /// then nothing is written. On the audit log as `enquiry.record`.
    async fn insert_enquiry(
        &self,
        enquiry: &Enquiry,
        claim: Option<&crate::CaseClaim>,
    ) -> StoreResult<()>;
    async fn enquiry(&self, id: &str) -> StoreResult<Option<Enquiry>>;
    /// The enquiries taken in `[from, to)`, newest first, at most `limit`.
    async fn enquiries(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Enquiry>>;
}

#[async_trait]
impl<D: Dialect, A: AuditPolicy> KnowledgeStore for SqlStore<D, A> {
    async fn articles(&self) -> StoreResult<Vec<Article>> {
        let rows = self
            .read_all(Statement::new("SELECT doc FROM knowledge_articles"))
            .await?;
        let mut articles: Vec<Article> = rows
            .iter()
            .map(|r| r.json("doc"))
            .collect::<StoreResult<_>>()?;
        articles.sort_by(|a, b| {
            a.draft
                .title
                .cmp(&b.draft.title)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(articles)
    }

    async fn article(&self, id: &str) -> StoreResult<Option<Article>> {
        let row = self
            .read_optional(
                Statement::new("SELECT doc FROM knowledge_articles WHERE id = $1").bind(id),
            )
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn create_article(&self, article: &Article) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let written = D::execute(
            &mut tx,
            Statement::new(
                "INSERT INTO knowledge_articles (id, version, doc, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&article.id)
            .bind(article.version)
            .bind(crate::encode_json(article))
            .bind(crate::millis(article.updated_at)),
        )
        .await?;
        if written != 1 {
            return Err(StoreError::Duplicate { field: "id" });
        }
        let record = crate::audit::record("knowledge.create", format!("article:{}", article.id))
            .detail(article.draft.title.clone());
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_article(&self, article: &Article) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let stored = D::fetch_optional(
            &mut tx,
            Statement::new("SELECT version FROM knowledge_articles WHERE id = $1")
                .bind(&article.id),
        )
        .await?;
        let Some(stored) = stored else {
            return Ok(false);
        };
        let written = D::execute(
            &mut tx,
            Statement::new(
                "UPDATE knowledge_articles SET version = $1, doc = $2, updated_at = $3
                 WHERE id = $4 AND version = $5",
            )
            .bind(article.version)
            .bind(crate::encode_json(article))
            .bind(crate::millis(article.updated_at))
            .bind(&article.id)
            .bind(article.version - 1),
        )
        .await?;
        if written != 1 {
            return Err(StoreError::Conflict(format!(
                "the article is at version {}, not {}; reload it and try again",
                stored.int("version")?,
                article.version - 1
            )));
        }
        let record = crate::audit::record("knowledge.update", format!("article:{}", article.id))
            .detail(format!("version {}", article.version));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_article(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let deleted = D::execute(
            &mut tx,
            Statement::new("DELETE FROM knowledge_articles WHERE id = $1").bind(id),
        )
        .await?;
        if deleted == 0 {
            return Ok(false);
        }
        self.audit_in(
            &mut tx,
            vec![crate::audit::record(
                "knowledge.delete",
                format!("article:{id}"),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_enquiry(
        &self,
        enquiry: &Enquiry,
        claim: Option<&crate::CaseClaim>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        if let Some(claim) = claim {
            crate::intake::write_claim::<D>(&mut tx, claim, &enquiry.id).await?;
        }
        D::execute(
            &mut tx,
            Statement::new("INSERT INTO enquiries (id, at, doc) VALUES ($1, $2, $3)")
                .bind(&enquiry.id)
                .bind(crate::millis(enquiry.at))
                .bind(crate::encode_json(enquiry)),
        )
        .await?;
        let record = crate::audit::record("enquiry.record", format!("enquiry:{}", enquiry.id))
            .detail(format!("{} articles cited", enquiry.articles.len()));
        self.audit_in(&mut tx, vec![record]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enquiry(&self, id: &str) -> StoreResult<Option<Enquiry>> {
        let row = self
            .read_optional(Statement::new("SELECT doc FROM enquiries WHERE id = $1").bind(id))
            .await?;
        row.map(|r| r.json("doc")).transpose()
    }

    async fn enquiries(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Enquiry>> {
        let rows = self
            .read_all(
                Statement::new(
                    "SELECT doc FROM enquiries WHERE at >= $1 AND at < $2 ORDER BY at DESC, id LIMIT $3",
                )
                .bind(crate::millis(from))
                .bind(crate::millis(to))
                .bind(i64::from(limit)),
            )
            .await?;
        rows.iter().map(|r| r.json("doc")).collect()
    }
}
