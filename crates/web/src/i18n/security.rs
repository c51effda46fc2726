//! Messages of refusals made for safety: forged or cross-site posts, an overloaded server, a
//! request too slow or too large, a database that is unavailable or out of disk space.

/// (key, 中文, English).
pub const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "error.csrf",
        "这个表单缺少有效的安全令牌，没有保存任何内容。请刷新页面后重试。",
        "This form is missing its security token, so nothing was saved. Reload the page and try again.",
    ),
    (
        "error.cross_origin",
        "这个请求来自其他网站，已拒绝，没有保存任何内容。",
        "This request came from another site and was refused; nothing was saved.",
    ),
    (
        "error.nul",
        "提交的文字里有不可见的空字符（NUL），没有保存任何内容。",
        "What was sent contains a NUL character, which text may not contain; nothing was saved.",
    ),
    (
        "error.busy",
        "服务器正忙，请稍后再试。",
        "The server is busy; please try again in a moment.",
    ),
    (
        "error.database_unavailable",
        "数据库暂时不可用（正在重启或无法连接），没有保存任何内容。请几秒后重试。",
        "The database is unavailable (restarting or unreachable); nothing was saved. Please try again in a few seconds.",
    ),
    (
        "error.storage_full",
        "数据库所在磁盘已满，没有保存任何内容。仍可查看数据；请管理员释放磁盘空间。",
        "The database's disk is full; nothing was saved. Reading still works; an administrator must free disk space.",
    ),
    (
        "error.timeout",
        "请求处理超时，请重试。",
        "The request took too long; please try again.",
    ),
    (
        "error.too_many_requests",
        "这个地址的请求太频繁了，请稍等片刻再打开。",
        "Too many requests from this address; please wait a moment and try again.",
    ),
    (
        "error.too_large",
        "提交的内容太大，服务器无法接收。",
        "What was sent is larger than the server accepts.",
    ),
];
