//! How the app reaches its screens: the [`Context`] a screen reads, built from the app's own
//! fields (so the screen being called can be borrowed mutably beside it), and the one place
//! that chooses the screen `app.view` names.
//!
//! [`Context`]: crate::context::Context

/// The read-only [`crate::context::Context`] of `app`, with the queue's filter and marks
/// (`context!(app)`), or with `cases` given (`context!(app, None)` while the queue itself is
/// borrowed).
macro_rules! context {
    ($app:expr) => {
        $crate::app::route::context!(
            $app,
            Some($crate::context::CaseMarks {
                filter: &$app.queue.filter,
                filter_text: &$app.queue.filter_text,
                marked: &$app.queue.marked,
                new_ids: &$app.queue.new_ids,
            })
        )
    };
    ($app:expr, $cases:expr) => {
        $crate::context::Context {
            lang: $app.lang,
            keymap: &$app.keymap,
            model: &$app.model,
            me: $app.me.as_ref(),
            now: $app.now,
            tz: $app.tz,
            size: $app.size,
            loaded: $app.loaded,
            view: $app.view,
            conn: $app.conn,
            cases: $cases,
            acting_on: None,
        }
    };
}
pub(crate) use context;

/// Runs `$body` with `$s` the screen `app.view` names (shared), and `$cx` the context when
/// named (else the caller brings its own).
macro_rules! on_screen {
    ($app:expr, $s:ident, $cx:ident => $body:expr) => {{
        #[allow(unused_variables)]
        let $cx = $crate::app::route::context!($app);
        $crate::app::route::on_screen!($app, $s => $body)
    }};
    ($app:expr, $s:ident => $body:expr) => {{
        #[allow(unused_imports)]
        use $crate::screens::Screen as _;
        match $app.view {
            $crate::message::View::Queue => {
                let $s = &$app.queue;
                $body
            }
            $crate::message::View::Work => {
                let $s = &$app.work;
                $body
            }
            $crate::message::View::Departments => {
                let $s = &$app.departments;
                $body
            }
            $crate::message::View::DeptCases(_) => {
                let $s = &$app.cases;
                $body
            }
            $crate::message::View::Wishes => {
                let $s = &$app.wishes;
                $body
            }
            $crate::message::View::Detail => {
                let $s = &$app.detail;
                $body
            }
            $crate::message::View::Assessment => {
                let $s = &$app.assess;
                $body
            }
            $crate::message::View::Webhooks => {
                let $s = &$app.hooks;
                $body
            }
            $crate::message::View::Inbox => {
                let $s = &$app.inbox;
                $body
            }
            $crate::message::View::Notices => {
                let $s = &$app.notices;
                $body
            }
            $crate::message::View::Search => {
                let $s = &$app.search;
                $body
            }
            $crate::message::View::Trends => {
                let $s = &$app.trends;
                $body
            }
        }
    }};
}
pub(crate) use on_screen;

/// Runs `$body` with `$s` the screen `app.view` names (to change) and `$cx` the context.
macro_rules! on_screen_mut {
    ($app:expr, $s:ident, $cx:ident => $body:expr) => {{
        #[allow(unused_imports)]
        use $crate::screens::Screen as _;
        match $app.view {
            $crate::message::View::Queue => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app, None);
                let $s = &mut $app.queue;
                $body
            }
            $crate::message::View::Work => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.work;
                $body
            }
            $crate::message::View::Departments => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.departments;
                $body
            }
            $crate::message::View::DeptCases(_) => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.cases;
                $body
            }
            $crate::message::View::Wishes => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.wishes;
                $body
            }
            $crate::message::View::Detail => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.detail;
                $body
            }
            $crate::message::View::Assessment => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.assess;
                $body
            }
            $crate::message::View::Webhooks => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.hooks;
                $body
            }
            $crate::message::View::Inbox => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.inbox;
                $body
            }
            $crate::message::View::Notices => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.notices;
                $body
            }
            $crate::message::View::Search => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.search;
                $body
            }
            $crate::message::View::Trends => {
                #[allow(unused_variables)]
                let $cx = $crate::app::route::context!($app);
                let $s = &mut $app.trends;
                $body
            }
        }
    }};
}
pub(crate) use on_screen_mut;

/// Fits every screen's list to the terminal (after a resize).
macro_rules! fit_every_screen {
    ($app:expr) => {{
        use $crate::screens::Screen as _;
        let cx = $crate::app::route::context!($app, None);
        $app.queue.fit(&cx);
        let cx = $crate::app::route::context!($app);
        $app.work.fit(&cx);
        $app.departments.fit(&cx);
        $app.cases.fit(&cx);
        $app.wishes.fit(&cx);
        $app.detail.fit(&cx);
        $app.assess.fit(&cx);
        $app.hooks.fit(&cx);
        $app.inbox.fit(&cx);
        $app.notices.fit(&cx);
        $app.search.fit(&cx);
        $app.trends.fit(&cx);
    }};
}
pub(crate) use fit_every_screen;
