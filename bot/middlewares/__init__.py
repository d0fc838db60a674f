"""Outer update middlewares, in order: update scope (de-duplication, in-flight tracking), user,
i18n."""
