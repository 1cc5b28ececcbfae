"""Text material of the sample project: ticket templates, slot fillers and model replies.

Kept apart from ``generate.py`` so the generator reads as the story of the project. Every ticket
is a template with ``{slot}`` placeholders; ``name``, ``email``, ``phone`` and ``order`` are PII
slots (their character offsets in the rendered text become the ``pii`` spans). All names, e-mail
domains (RFC 2606 ``example.*``) and phone numbers (the fictional 555 range and its European
look-alikes) are invented.
"""

from __future__ import annotations

INTENTS = (
    "billing",
    "bug_report",
    "account_access",
    "cancellation",
    "feature_request",
    "shipping",
    "how_to",
    "complaint",
)
# Skewed prevalence, as in a real support queue: billing and how-to questions dominate.
INTENT_SHARES = (0.24, 0.15, 0.13, 0.08, 0.04, 0.11, 0.18, 0.07)

# The intents a hurried or unsure annotator mistakes each intent for (first is the likeliest).
CONFUSABLE = {
    "billing": ("cancellation", "complaint"),
    "bug_report": ("how_to", "account_access"),
    "account_access": ("bug_report", "how_to"),
    "cancellation": ("billing", "complaint"),
    "feature_request": ("how_to", "bug_report"),
    "shipping": ("complaint", "billing"),
    "how_to": ("feature_request", "bug_report"),
    "complaint": ("shipping", "billing"),
}

PII_SLOTS = {"name": "NAME", "email": "EMAIL", "phone": "PHONE", "order": "ORDER_ID"}
PII_LABELS = ("EMAIL", "PHONE", "NAME", "ORDER_ID")

TEMPLATES = {
    "en": {
        "billing": (
            "Hi, I was charged {amount} twice on {date} for my {plan} subscription. Can you refund the extra charge? Order {order}.",
            "My invoice from {date} shows {amount} but my plan is supposed to be cheaper. Please check order {order}.",
            "Why was my card billed {amount}? I never upgraded to {plan}.",
            "I need a copy of the invoice for order {order}, the PDF link gives an error.",
        ),
        "bug_report": (
            "The {feature} in {product} crashes every time I open it since the update on {date}.",
            "{product} shows error {error} when I try to save. Tried reinstalling, same thing.",
            "Since yesterday the {feature} button does nothing in {product}. I'm on the latest version.",
            "Sync between {product} and the web app is broken, my changes disappear after a few minutes.",
        ),
        "account_access": (
            "I can't log in, the reset link in the e-mail has expired. My login is {email}.",
            "Locked out after too many attempts. Please unlock the account registered to {email}.",
            "Two-factor codes are not arriving on my phone {phone}, so I can't sign in.",
        ),
        "cancellation": (
            "Please cancel my {plan} subscription effective immediately and confirm by e-mail.",
            "I want to close my account and stop the renewal on {date}. Order {order}.",
            "How do I cancel? I don't want to be charged {amount} again next month.",
        ),
        "feature_request": (
            "It would be great if {product} could export reports to {format}.",
            "Any plans to add {feature} to {product}? Our team would pay for it.",
            "Please add keyboard shortcuts and a dark mode to {product}.",
        ),
        "shipping": (
            "My order {order} was supposed to arrive on {date} but tracking hasn't moved for {days} days.",
            "The package for order {order} was delivered to the wrong address in {city}.",
            "Can you ship order {order} with {carrier} instead? I'll be away on {date}.",
        ),
        "how_to": (
            "How do I set up {feature} in {product}? The docs don't say where the setting is.",
            "Is there a way to share a {product} project with my team?",
            "Where can I change the default currency on my invoices?",
            "What's the best way to import my old data into {product}?",
        ),
        "complaint": (
            "This is the third time I'm writing about order {order}. Nobody answers and I'm fed up.",
            "Very disappointed with {product}. It was slow from day one and your agent was rude on the phone.",
            "I've been a customer for {years} years and this is how you treat me? Unacceptable.",
        ),
    },
    "de": {
        "billing": ("Hallo, mir wurden am {date} {amount} doppelt abgebucht. Bitte erstatten Sie den Betrag, Bestellung {order}.",),
        "bug_report": ("{product} stürzt seit dem Update vom {date} bei jedem Start ab, Fehler {error}.",),
        "account_access": ("Ich kann mich nicht anmelden, der Link zum Zurücksetzen ist abgelaufen. Mein Login ist {email}.",),
        "cancellation": ("Bitte kündigen Sie mein {plan}-Abo zum nächstmöglichen Termin.",),
        "feature_request": ("Könnten Sie in {product} einen Export nach {format} einbauen?",),
        "shipping": ("Meine Bestellung {order} ist immer noch nicht da, die Sendungsverfolgung steht seit {days} Tagen still.",),
        "how_to": ("Wie richte ich {feature} in {product} ein? In der Hilfe finde ich nichts dazu.",),
        "complaint": ("Ich bin sehr enttäuscht von {product}, und Ihr Support antwortet seit Wochen nicht.",),
    },
    "fr": {
        "billing": ("Bonjour, j'ai été débité deux fois de {amount} le {date}. Merci de rembourser la commande {order}.",),
        "bug_report": ("{product} plante à chaque ouverture depuis la mise à jour du {date} (erreur {error}).",),
        "account_access": ("Je n'arrive plus à me connecter, le lien de réinitialisation a expiré. Mon identifiant est {email}.",),
        "cancellation": ("Merci de résilier mon abonnement {plan} dès maintenant.",),
        "feature_request": ("Serait-il possible d'exporter les rapports de {product} en {format} ?",),
        "shipping": ("Ma commande {order} devait arriver le {date}, le suivi ne bouge plus depuis {days} jours.",),
        "how_to": ("Comment configurer {feature} dans {product} ? Je ne trouve pas le réglage.",),
        "complaint": ("Très déçu par {product}, et votre service client ne répond jamais.",),
    },
    "es": {
        "billing": ("Hola, me cobraron {amount} dos veces el {date}. Por favor reembolsen el pedido {order}.",),
        "bug_report": ("{product} se cierra cada vez que lo abro desde la actualización del {date}, error {error}.",),
        "account_access": ("No puedo iniciar sesión, el enlace de restablecimiento caducó. Mi usuario es {email}.",),
        "cancellation": ("Quiero cancelar mi suscripción {plan} a partir de hoy.",),
        "feature_request": ("¿Podrían añadir la exportación a {format} en {product}?",),
        "shipping": ("Mi pedido {order} debía llegar el {date} y el seguimiento no se mueve desde hace {days} días.",),
        "how_to": ("¿Cómo configuro {feature} en {product}? No encuentro la opción.",),
        "complaint": ("Muy decepcionado con {product}, su servicio de atención no responde nunca.",),
    },
}

# A second, weaker intent mixed into hard tickets: the reason these tickets are ambiguous.
SECOND_THOUGHTS = {
    "billing": " Honestly I'm thinking about cancelling.",
    "bug_report": " Also, how do I turn off the new layout?",
    "account_access": " The login page also shows an error {error}.",
    "cancellation": " And I was charged {amount} for a month I didn't use.",
    "feature_request": " Or is there already a way to do this?",
    "shipping": " This is really not acceptable.",
    "how_to": " If this isn't possible yet, please add it.",
    "complaint": " And the order {order} is still not here.",
}

SIGNATURES = {
    "en": ("\n\nThanks,\n{name}", " You can reach me at {phone}.", "\n\n{name}\n{email}", " Call me back on {phone}, {name}"),
    "de": ("\n\nDanke,\n{name}", " Sie erreichen mich unter {phone}.", "\n\n{name}\n{email}"),
    "fr": ("\n\nMerci,\n{name}", " Vous pouvez me joindre au {phone}.", "\n\n{name}\n{email}"),
    "es": ("\n\nGracias,\n{name}", " Pueden llamarme al {phone}.", "\n\n{name}\n{email}"),
}

FIRST_NAMES = {
    "en": ("Dana", "Marcus", "Priya", "Tom", "Aisha", "Kevin", "Laura", "Sam", "Grace", "Oliver"),
    "de": ("Jonas", "Lena", "Katrin", "Felix", "Sabine", "Mehmet"),
    "fr": ("Camille", "Julien", "Amélie", "Karim", "Sophie"),
    "es": ("Lucía", "Javier", "Carmen", "Diego", "Marta"),
}
LAST_NAMES = {
    "en": ("Kowalski", "Reed", "Natarajan", "O'Brien", "Bello", "Walsh", "Chen", "Morgan"),
    "de": ("Schneider", "Wagner", "Yilmaz", "Hoffmann", "Becker"),
    "fr": ("Martin", "Lefèvre", "Benali", "Dubois", "Moreau"),
    "es": ("García", "Fernández", "López", "Ruiz", "Navarro"),
}
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
PHONE_FORMATS = {
    "en": ("+1 415 555 {a:04d}", "(212) 555-{a:04d}", "+44 20 7946 {a:04d}"),
    "de": ("+49 30 5550 {a:04d}", "030 5550{a:04d}"),
    "fr": ("+33 1 55 50 {b:02d} {c:02d}", "01 55 50 {b:02d} {c:02d}"),
    "es": ("+34 915 550 {a:03d}", "915 550 {a:03d}"),
}
ORDER_FORMATS = ("#A-{n:06d}", "ORD-2026-{n:06d}", "{m:04d}-{k:04d}")

SLOT_VALUES = {
    "product": ("Nimbus Pro", "Nimbus Lite", "the mobile app", "Ledger", "the desktop app", "Atlas Sync"),
    "plan": ("Pro", "Team", "Basic", "Annual Pro", "Family"),
    "feature": ("shared calendars", "SSO", "recurring invoices", "the offline mode", "webhooks", "bulk export"),
    "format": ("Excel", "CSV", "PDF", "Google Sheets"),
    "error": ("E-1042", "500", "SYNC_TIMEOUT", "0x80070005"),
    "city": ("Leeds", "Portland", "Lyon", "Graz", "Valencia"),
    "carrier": ("DHL", "UPS", "FedEx", "La Poste"),
    "days": ("5", "6", "9", "12"),
    "years": ("3", "5", "8", "10"),
}
AMOUNTS = ("$19.99", "$49.00", "$9.99", "€29.90", "€119.00", "£15.00", "$240.00")
DATES = {
    "en": ("March 3", "Feb 28", "March 10", "3/14", "the 1st"),
    "de": ("3. März", "28.02.", "10. März"),
    "fr": ("3 mars", "28 février", "10 mars"),
    "es": ("3 de marzo", "28 de febrero", "10 de marzo"),
}

# Model replies, rated by the `quality` question. The kind fixes the true rating.
REPLY_KINDS = ("specific", "adequate", "generic", "wrong_policy", "off_topic")
REPLY_KIND_SHARES = (0.40, 0.25, 0.15, 0.12, 0.08)
REPLY_KIND_QUALITY = {"specific": 5, "adequate": 4, "generic": 3, "wrong_policy": 2, "off_topic": 1}
REPLIES = {
    "specific": {
        "billing": "I'm sorry about the double charge. I've refunded {amount} to your card; it will show within 5 business days.",
        "bug_report": "Thanks for the report. This is a known issue in the last update; version 4.2.1 fixes it. Please update and restart.",
        "account_access": "I've sent a new reset link valid for 24 hours and cleared the lock on your account.",
        "cancellation": "Your subscription is cancelled and will not renew. You'll get a confirmation e-mail shortly.",
        "feature_request": "Thanks for the idea! I've added your vote to this request and our product team will review it this quarter.",
        "shipping": "I've checked with the carrier: your parcel is at the local depot and will be delivered tomorrow.",
        "how_to": "Go to Settings > Workspace > Sharing, then invite your team by e-mail. Here's the guide: help.example.com/share",
        "complaint": "I'm truly sorry for the experience. I've escalated your case to a team lead who will call you today.",
    },
    "adequate": {
        "billing": "Sorry for the trouble with your invoice. I've asked our billing team to check it and correct any error.",
        "bug_report": "Thanks for letting us know. Could you send a screenshot so we can reproduce the problem?",
        "account_access": "Please try the reset link again from the login page; if it still fails, reply and we'll unlock it.",
        "cancellation": "You can cancel under Settings > Plan. Let me know if you'd like me to do it for you.",
        "feature_request": "Thanks for the suggestion, I've passed it on to the product team.",
        "shipping": "I've opened an inquiry with the carrier and will update you within 48 hours.",
        "how_to": "You can find this under Settings. Let me know if you need step-by-step help.",
        "complaint": "I'm sorry to hear that. I'll pass your feedback on to the team.",
    },
}
GENERIC_REPLY = "Thank you for contacting support. We have received your message and will get back to you."
WRONG_POLICY_REPLIES = (
    "Unfortunately refunds are never possible once a payment has gone through.",
    "Accounts can only be unlocked after 30 days for security reasons.",
    "We cannot change anything about an order once it has been placed.",
)
