from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hms.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from django.db.models.signals import post_migrate

        from hms.accounts import dashboard, signals  # noqa: F401  (widget, login audit)

        post_migrate.connect(_sync_roles_after_migrate, sender=self)


def _sync_roles_after_migrate(**kwargs):
    from hms.accounts.roles import roles_sync

    roles_sync()
