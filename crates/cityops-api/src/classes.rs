//! Class suggestions learn from the city's filings: the shipped labelled reports and the
//! class names at start, the stored filings soon after, and each filing as the outbox relay
//! delivers it (so every node learns every node's filings, without a restart). Training runs
//! off the async workers and the model in use is swapped whole.

use std::sync::Arc;
use std::time::Duration;

use cityops_domain::classify::{ClassModel, ClassTrainer, LabelledText};
use cityops_domain::{CategoryCatalog, CategoryCode, CommandKind};
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;

/// The stored filings learned at start: the most recent, so a large city's start stays
/// quick; each new one is learned as it happens.
const STORED_FILINGS: u32 = 50_000;
/// Filings made within this long of each other are learned in one training.
const GATHER: Duration = Duration::from_secs(2);

/// Where every node's class suggestions start: a trainer that learned the shipped texts and
/// the class names, and its model.
#[derive(Debug, Clone, Default)]
pub struct ClassSeed {
    pub trainer: ClassTrainer,
    pub model: Arc<ClassModel>,
}

impl ClassSeed {
    /// Learns `examples` and the names of `catalog`'s classes; they are never forgotten.
    pub fn train(examples: &[LabelledText], catalog: &CategoryCatalog) -> ClassSeed {
        let mut trainer = ClassTrainer::new();
        for example in examples {
            trainer.add(&example.text, &example.class);
        }
        trainer.add_class_names(catalog);
        trainer.keep_permanently();
        let model = Arc::new(trainer.train());
        ClassSeed { trainer, model }
    }
}

async fn retrain(state: &AppState, mut trainer: ClassTrainer) -> ClassTrainer {
    let trained = tokio::task::spawn_blocking(move || {
        let model = trainer.train();
        (trainer, model)
    })
    .await;
    match trained {
        Ok((trainer, model)) => {
            *state.classes.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(model);
            trainer
        }
        // Training cannot fail short of a panic in it; the next filing starts afresh from
        // the shipped texts.
        Err(e) => {
            tracing::error!(error = %e, "Class suggestions' training failed.");
            state.config.class_seed.trainer.clone()
        }
    }
}

pub(crate) fn spawn(state: AppState) {
    // Subscribed before the stored filings are read, so none falls between the two.
    let mut changes = state.changes.subscribe();
    tokio::spawn(async move {
        let mut trainer = state.config.class_seed.trainer.clone();
        match state.store.filed_texts(STORED_FILINGS).await {
            Ok(filed) => {
                for (text, class) in filed.iter().rev() {
                    if let Ok(class) = CategoryCode::parse(class) {
                        trainer.add(text, &class);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Class suggestions start without the stored filings.")
            }
        }
        if trainer.untrained() > 0 {
            trainer = retrain(&state, trainer).await;
        }
        let stopped = state.stopped();
        tokio::pin!(stopped);
        let mut due: Option<tokio::time::Instant> = None;
        loop {
            let gathered = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) if change.action == CommandKind::File => {
                        if let Some(class) = &change.case.category {
                            if trainer.add(&change.case.description, &class.code) && due.is_none() {
                                due = Some(tokio::time::Instant::now() + GATHER);
                            }
                        }
                    }
                    Ok(_) => {}
                    // A filing missed under load is one example fewer, not a wrong one.
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "Class suggestions skipped changes.");
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = gathered => {
                    trainer = retrain(&state, trainer).await;
                    due = None;
                }
                _ = &mut stopped => return,
            }
        }
    });
}
