"""GraphQL Admin API documents (version 2026-04) and their first cost estimates.

Page sizes keep each query's requested cost under the documented single-query maximum of
1,000 points (a connection costs 2 plus ``first`` times one node). The client learns each
operation's real ``requestedQueryCost`` from the first answer and uses that afterwards; the
estimates here only size the very first wait.
"""

from __future__ import annotations

API_VERSION = "2026-04"
PRODUCTS_PER_PAGE = 8
VARIANTS_PER_PRODUCT_PAGE = 20
VARIANTS_PER_PAGE = 100
ORDERS_PER_PAGE = 4
LINES_PER_ORDER_PAGE = 20
LINES_PER_PAGE = 100
ITEMS_PER_LEVEL_QUERY = 25
SUBSCRIPTIONS_PER_PAGE = 100

SHOP = """
query Shop {
  shop { name myshopifyDomain currencyCode plan { publicDisplayName shopifyPlus } }
  productsCount { count }
}"""

VARIANT_FIELDS = """
fragment VariantFields on ProductVariant {
  id title sku barcode price compareAtPrice
  selectedOptions { value }
  inventoryItem { id tracked harmonizedSystemCode measurement { weight { unit value } } }
}"""

PRODUCT_FIELDS = """
fragment ProductFields on Product {
  id title handle descriptionHtml vendor productType status tags updatedAt
  options { name }
}"""

PRODUCTS = f"""
query Products($first: Int!, $after: String, $variants: Int!) {{
  products(first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      ...ProductFields
      variants(first: $variants) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ ...VariantFields }}
      }}
    }}
  }}
}}
{PRODUCT_FIELDS}
{VARIANT_FIELDS}"""

PRODUCT_VARIANTS = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ ...VariantFields }}
    }}
  }}
}}
{VARIANT_FIELDS}"""

# A bulk query names connections without ``first``; nested nodes come back as JSONL lines
# carrying ``__parentId`` ("Perform bulk operations with the GraphQL Admin API").
BULK_PRODUCTS = """
{
  products {
    edges { node {
      id title handle descriptionHtml vendor productType status tags updatedAt
      options { name }
      variants { edges { node {
        id title sku barcode price compareAtPrice
        selectedOptions { value }
        inventoryItem { id tracked harmonizedSystemCode measurement { weight { unit value } } }
      } } }
    } }
  }
}"""

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { code field message }
  }
}"""

BULK_STATUS = """
query BulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount rootObjectCount url }
  }
}"""

LEVELS = """
query Levels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id sku
      inventoryLevels(first: 10) {
        nodes { location { id } quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}"""

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}"""

ORDER_FIELDS = """
fragment OrderFields on Order {
  id name email createdAt updatedAt cancelledAt cancelReason displayFinancialStatus currencyCode
  customer { id }
  shippingAddress { name address1 address2 city zip provinceCode countryCodeV2 phone }
  totalShippingPriceSet { shopMoney { amount } }
  refunds(first: 10) {
    id createdAt totalRefundedSet { shopMoney { amount } }
    refundLineItems(first: 20) { nodes { lineItem { id } quantity restockType } }
  }
  transactions(first: 10) {
    id kind gateway amountSet { shopMoney { amount } }
    paymentDetails { ... on CardPaymentDetails { company number } }
  }
  fulfillmentOrders(first: 5) { nodes { assignedLocation { location { id } } } }
}"""

LINE_FIELDS = """
fragment LineFields on LineItem {
  id sku title quantity variant { id }
  originalUnitPriceSet { shopMoney { amount } }
  totalDiscountSet { shopMoney { amount } }
}"""

ORDERS = f"""
query Orders($first: Int!, $after: String, $query: String, $lines: Int!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      ...OrderFields
      lineItems(first: $lines) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...LineFields }} }}
    }}
  }}
}}
{ORDER_FIELDS}
{LINE_FIELDS}"""

ORDER_LINES = f"""
query OrderLines($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ ...LineFields }}
    }}
  }}
}}
{LINE_FIELDS}"""

FULFILLMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

SUBSCRIPTIONS = """
query Subscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}"""

SUBSCRIPTION_CREATE = """
mutation SubscriptionCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"""

# Requested-cost estimates for the first call of each operation (see module docstring).
# Privacy: "customerRequestDataErasure" enqueues Shopify's own erasure of the customer (the
# one the Admin's "Erase personal data" button starts); "customerUpdate" takes CustomerInput.
CUSTOMER_ERASURE = """
mutation CustomerErasure($customerId: ID!) {
  customerRequestDataErasure(customerId: $customerId) {
    customerId
    userErrors { field message code }
  }
}"""

CUSTOMER_UPDATE = """
mutation CustomerUpdate($input: CustomerInput!) {
  customerUpdate(input: $input) {
    customer { id }
    userErrors { field message }
  }
}"""

# Shopify search syntax; the value is quoted, so an address cannot add search terms.
CUSTOMERS_BY_EMAIL = """
query CustomersByEmail($query: String!) {
  customers(first: 10, query: $query) { nodes { id } }
}"""

# Restriction (GDPR Art. 18/19): what the customer's marketing consent and tags are now, then
# the consent mutations (2026-04: only SUBSCRIBED, UNSUBSCRIBED and PENDING may be set) and
# tagsAdd/tagsRemove. The phone number's marketing fields are deprecated in 2026-04 but are
# still where the SMS state is read.
CUSTOMER_CONSENT = """
query CustomerConsent($id: ID!) {
  customer(id: $id) {
    id
    tags
    defaultEmailAddress { marketingState marketingOptInLevel marketingUpdatedAt }
    defaultPhoneNumber { marketingState marketingOptInLevel marketingUpdatedAt }
  }
}"""

EMAIL_CONSENT_UPDATE = """
mutation EmailConsent($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) {
    customer { id defaultEmailAddress { marketingState marketingUpdatedAt } }
    userErrors { field message code }
  }
}"""

SMS_CONSENT_UPDATE = """
mutation SmsConsent($input: CustomerSmsMarketingConsentUpdateInput!) {
  customerSmsMarketingConsentUpdate(input: $input) {
    customer { id defaultPhoneNumber { marketingState marketingUpdatedAt } }
    userErrors { field message code }
  }
}"""

TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""

TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}"""

ESTIMATES = {
    "Shop": 3, "Products": 900, "ProductVariants": 510, "BulkRun": 10, "BulkStatus": 1,
    "Levels": 850, "SetQuantities": 10, "Orders": 900, "OrderLines": 600,
    "FulfillmentOrders": 600, "FulfillmentCreate": 10, "Subscriptions": 202,
    "SubscriptionCreate": 10, "CustomerErasure": 10, "CustomerUpdate": 10,
    "CustomersByEmail": 12, "CustomerConsent": 3, "EmailConsent": 10, "SmsConsent": 10,
    "TagsAdd": 10, "TagsRemove": 10,
}
