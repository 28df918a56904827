-- The API's pagination kinds (scripts/build/SOURCES.md), read by the pager to walk a list and
-- by help to say where a list's items are.
-- Each kind: `items` (the field holding a page's items; false: the body is the array), `param`
-- (the query parameter asking for the next page) and how its value is found: `number = "meta"`
-- (meta.page_number + 1, stop at meta.total_pages), `number = "sent"` (the number sent + 1),
-- or `cursor` (the path of the next cursor in the body; stop when there is none).
return {
  DefaultFlatPagination = { items = "data", param = "page[number]", number = "meta" },
  DefaultFlatPaginationTopLevelArray = { items = false, param = "page[number]", number = "sent" },
  DefaultFlatPaginationForInexplicitNumberOrders = { items = "data", param = "page_number", number = "meta" },
  DefaultPaginationForLogMessages = { items = "log_messages", param = "page[number]", number = "meta" },
  DefaultPaginationForMessagingTollfree = { items = "records", param = "page", number = "sent",
                                            until_number = "total_records" },
  DefaultPaginationForQueues = { items = "queues", param = "Page", number = "sent" },
  PerPagePagination = { items = "data", param = "page", number = "meta" },
  PerPagePaginationV2 = { items = "records", param = "page", number = "sent", until_seen = "totalRecords" },
  CursorFlatPagination = { items = "data", param = "cursor", cursor = { "meta", "cursor" } },
  EmailCursorPagination = { items = "data", param = "page_cursor", cursor = { "meta", "page_cursor" } },
  EmailBracketCursorPagination = { items = "data", param = "page[after]", cursor = { "meta", "page_cursor" } },
  CloudfsCursorPagination = { items = "data", param = "page[after]", cursor = { "meta", "cursors", "after" } },
}
