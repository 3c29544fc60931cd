"""The daily supervision loop on the assignments (issue 13): 签收 (acknowledge), 延期申请 (extensions),
催办 (urging), the assignment's light, and the office's one 待办 (todo). 撤回 and 逾期原因 live with
the submissions (services.submissions)."""
