"""The order spine shared by every order type: header, lines, status transitions, the operation
log, payments and refunds through pluggable providers, and the unified order inquiry."""
