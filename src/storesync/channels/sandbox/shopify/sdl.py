"""The subset of the GraphQL Admin API schema (version 2026-04) that the simulator serves.

Type, field, argument and enum names are Shopify's, as documented on
https://shopify.dev/docs/api/admin-graphql/2026-04; only the fields storesync reads or writes
are declared. ``@idempotent(key:)`` is the directive 2026-04 makes mandatory for inventory
mutations (changelog "Making idempotency mandatory for inventory adjustments and refund
mutations").
"""

SDL = """
scalar DateTime
scalar Money
scalar URL
scalar UnsignedInt64

directive @idempotent(key: String!) on FIELD

interface Node { id: ID! }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

enum CurrencyCode { INR USD EUR GBP JPY CAD AUD SGD AED }
enum CountryCode { IN US GB DE FR CA AU SG AE }

type MoneyV2 { amount: Money! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }

type ShopPlan { publicDisplayName: String! partnerDevelopment: Boolean! shopifyPlus: Boolean! }
type Shop implements Node {
  id: ID!
  name: String!
  myshopifyDomain: String!
  currencyCode: CurrencyCode!
  plan: ShopPlan!
}

type Location implements Node {
  id: ID! legacyResourceId: UnsignedInt64! name: String! isActive: Boolean!
}
type LocationEdge { cursor: String! node: Location! }
type LocationConnection { edges: [LocationEdge!]! nodes: [Location!]! pageInfo: PageInfo! }

enum ProductStatus { ACTIVE ARCHIVED DRAFT }
type ProductOptionValue { name: String! }
type ProductOption { name: String! position: Int! optionValues: [ProductOptionValue!]! }
type SelectedOption { name: String! value: String! }

type Product implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  handle: String!
  descriptionHtml: String!
  vendor: String!
  productType: String!
  status: ProductStatus!
  tags: [String!]!
  options: [ProductOption!]!
  createdAt: DateTime!
  updatedAt: DateTime!
  variants(first: Int, after: String): ProductVariantConnection!
}
type ProductEdge { cursor: String! node: Product! }
type ProductConnection { edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }

type ProductVariant implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  sku: String
  barcode: String
  price: Money!
  compareAtPrice: Money
  selectedOptions: [SelectedOption!]!
  inventoryItem: InventoryItem!
  product: Product!
  updatedAt: DateTime!
}
type ProductVariantEdge { cursor: String! node: ProductVariant! }
type ProductVariantConnection {
  edges: [ProductVariantEdge!]! nodes: [ProductVariant!]! pageInfo: PageInfo!
}

enum WeightUnit { GRAMS KILOGRAMS OUNCES POUNDS }
type Weight { unit: WeightUnit! value: Float! }
type InventoryItemMeasurement { weight: Weight }

type InventoryItem implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  sku: String
  tracked: Boolean!
  harmonizedSystemCode: String
  measurement: InventoryItemMeasurement!
  variant: ProductVariant!
  inventoryLevels(first: Int, after: String): InventoryLevelConnection!
  inventoryLevel(locationId: ID!): InventoryLevel
}
type InventoryItemEdge { cursor: String! node: InventoryItem! }
type InventoryItemConnection {
  edges: [InventoryItemEdge!]! nodes: [InventoryItem!]! pageInfo: PageInfo!
}

type InventoryQuantity { name: String! quantity: Int! updatedAt: DateTime }
type InventoryLevel implements Node {
  id: ID!
  item: InventoryItem!
  location: Location!
  quantities(names: [String!]!): [InventoryQuantity!]!
  updatedAt: DateTime!
}
type InventoryLevelEdge { cursor: String! node: InventoryLevel! }
type InventoryLevelConnection {
  edges: [InventoryLevelEdge!]! nodes: [InventoryLevel!]! pageInfo: PageInfo!
}

type Customer implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  firstName: String
  lastName: String
  email: String
  phone: String
  createdAt: DateTime!
  updatedAt: DateTime!
  tags: [String!]!
  defaultEmailAddress: CustomerEmailAddress
  defaultPhoneNumber: CustomerPhoneNumber
}
enum CustomerEmailAddressMarketingState { INVALID NOT_SUBSCRIBED PENDING SUBSCRIBED UNSUBSCRIBED }
enum CustomerEmailMarketingState {
  INVALID NOT_SUBSCRIBED PENDING REDACTED SUBSCRIBED UNSUBSCRIBED
}
enum CustomerSmsMarketingState { NOT_SUBSCRIBED PENDING REDACTED SUBSCRIBED UNSUBSCRIBED }
enum CustomerMarketingOptInLevel { CONFIRMED_OPT_IN SINGLE_OPT_IN UNKNOWN }
type CustomerEmailAddress {
  emailAddress: String!
  marketingState: CustomerEmailAddressMarketingState!
  marketingOptInLevel: CustomerMarketingOptInLevel
  marketingUpdatedAt: DateTime
}
type CustomerPhoneNumber {
  phoneNumber: String!
  marketingState: CustomerSmsMarketingState! @deprecated(reason: "2026-04")
  marketingOptInLevel: CustomerMarketingOptInLevel @deprecated(reason: "2026-04")
  marketingUpdatedAt: DateTime @deprecated(reason: "2026-04")
}
type CustomerEdge { cursor: String! node: Customer! }
type CustomerConnection { edges: [CustomerEdge!]! nodes: [Customer!]! pageInfo: PageInfo! }
type MailingAddress {
  name: String
  firstName: String
  lastName: String
  address1: String
  address2: String
  city: String
  zip: String
  provinceCode: String
  countryCodeV2: CountryCode
  phone: String
}

enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderDisplayFinancialStatus {
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}
enum OrderSortKeys { CREATED_AT ID ORDER_NUMBER PROCESSED_AT UPDATED_AT }

type LineItem implements Node {
  id: ID!
  sku: String
  title: String!
  quantity: Int!
  currentQuantity: Int!
  variant: ProductVariant
  originalUnitPriceSet: MoneyBag!
  totalDiscountSet: MoneyBag!
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }

enum RefundLineItemRestockType { CANCEL LEGACY_RESTOCK NO_RESTOCK RETURN }
type RefundLineItem { lineItem: LineItem! quantity: Int! restockType: RefundLineItemRestockType! }
type RefundLineItemEdge { cursor: String! node: RefundLineItem! }
type RefundLineItemConnection {
  edges: [RefundLineItemEdge!]! nodes: [RefundLineItem!]! pageInfo: PageInfo!
}
type Refund implements Node {
  id: ID!
  createdAt: DateTime
  note: String
  totalRefundedSet: MoneyBag!
  refundLineItems(first: Int, after: String): RefundLineItemConnection!
}

enum OrderTransactionKind {
  AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID
}
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
type CardPaymentDetails { company: String number: String }
union PaymentDetails = CardPaymentDetails
type OrderTransaction implements Node {
  id: ID!
  kind: OrderTransactionKind!
  status: OrderTransactionStatus!
  gateway: String
  amountSet: MoneyBag!
  paymentDetails: PaymentDetails
}

enum FulfillmentOrderStatus { CANCELLED CLOSED INCOMPLETE IN_PROGRESS ON_HOLD OPEN SCHEDULED }
type FulfillmentOrderAssignedLocation { name: String! location: Location }
type FulfillmentOrderLineItem implements Node {
  id: ID!
  totalQuantity: Int!
  remainingQuantity: Int!
  lineItem: LineItem!
}
type FulfillmentOrderLineItemEdge { cursor: String! node: FulfillmentOrderLineItem! }
type FulfillmentOrderLineItemConnection {
  edges: [FulfillmentOrderLineItemEdge!]! nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo!
}
type FulfillmentOrder implements Node {
  id: ID!
  status: FulfillmentOrderStatus!
  assignedLocation: FulfillmentOrderAssignedLocation!
  lineItems(first: Int, after: String): FulfillmentOrderLineItemConnection!
}
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrderConnection {
  edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo!
}

enum FulfillmentStatus { CANCELLED ERROR FAILURE SUCCESS }
type FulfillmentTrackingInfo { company: String number: String url: URL }
type Fulfillment implements Node {
  id: ID!
  status: FulfillmentStatus!
  createdAt: DateTime!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
  location: Location
}

type Order implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  email: String
  createdAt: DateTime!
  updatedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  displayFinancialStatus: OrderDisplayFinancialStatus
  currencyCode: CurrencyCode!
  customer: Customer
  shippingAddress: MailingAddress
  totalShippingPriceSet: MoneyBag!
  totalPriceSet: MoneyBag!
  lineItems(first: Int, after: String): LineItemConnection!
  refunds(first: Int): [Refund!]!
  transactions(first: Int): [OrderTransaction!]!
  fulfillmentOrders(first: Int, after: String): FulfillmentOrderConnection!
  fulfillments(first: Int): [Fulfillment!]!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

enum WebhookSubscriptionTopic {
  APP_UNINSTALLED INVENTORY_LEVELS_UPDATE ORDERS_CANCELLED ORDERS_CREATE ORDERS_UPDATED
  PRODUCTS_CREATE PRODUCTS_DELETE PRODUCTS_UPDATE REFUNDS_CREATE BULK_OPERATIONS_FINISH
}
enum WebhookSubscriptionFormat { JSON XML }
type WebhookSubscription implements Node {
  id: ID!
  topic: WebhookSubscriptionTopic!
  uri: String!
  format: WebhookSubscriptionFormat!
  includeFields: [String!]!
  createdAt: DateTime!
  updatedAt: DateTime!
}
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection {
  edges: [WebhookSubscriptionEdge!]! nodes: [WebhookSubscription!]! pageInfo: PageInfo!
}

enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
enum BulkOperationType { MUTATION QUERY }
enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
type BulkOperation implements Node {
  id: ID!
  status: BulkOperationStatus!
  type: BulkOperationType!
  errorCode: BulkOperationErrorCode
  createdAt: DateTime!
  completedAt: DateTime
  objectCount: UnsignedInt64!
  rootObjectCount: UnsignedInt64!
  fileSize: UnsignedInt64
  url: URL
  partialDataUrl: URL
  query: String!
}

enum CountPrecision { AT_LEAST EXACT }
type Count { count: Int! precision: CountPrecision! }

type Query {
  shop: Shop!
  productsCount(query: String): Count
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  locations(first: Int, after: String): LocationConnection!
  products(first: Int, after: String, query: String): ProductConnection!
  product(id: ID!): Product
  productVariants(first: Int, after: String, query: String): ProductVariantConnection!
  inventoryItems(first: Int, after: String, query: String): InventoryItemConnection!
  inventoryItem(id: ID!): InventoryItem
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys = ID,
         reverse: Boolean = false): OrderConnection!
  order(id: ID!): Order
  customers(first: Int, after: String, query: String): CustomerConnection!
  customer(id: ID!): Customer
  webhookSubscriptions(first: Int, after: String,
                       topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
  currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
  bulkOperation(id: ID!): BulkOperation
}

type UserError { field: [String!] message: String! }

input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  changeFromQuantity: Int
}
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
}
enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH INVALID_INVENTORY_ITEM
  INVALID_LOCATION INVALID_NAME INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR NON_MUTABLE_INVENTORY_ITEM
}
type InventorySetQuantitiesUserError {
  code: InventorySetQuantitiesUserErrorCode
  field: [String!]
  message: String!
}
type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  item: InventoryItem
  location: Location
}
type InventoryAdjustmentGroup {
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: String
  changes(quantityNames: [String!]): [InventoryChange!]!
}
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}

input InventoryChangeInput {
  inventoryItemId: ID!
  locationId: ID!
  delta: Int!
  changeFromQuantity: Int
  ledgerDocumentUri: String
}
input InventoryAdjustQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  changes: [InventoryChangeInput!]!
}
type InventoryAdjustQuantitiesUserError { code: String field: [String!] message: String! }
type InventoryAdjustQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventoryAdjustQuantitiesUserError!]!
}

input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID!
  fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput { company: String number: String url: URL }
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  notifyCustomer: Boolean = false
  trackingInfo: FulfillmentTrackingInput
}
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }

enum BulkOperationUserErrorCode { INVALID OPERATION_IN_PROGRESS }
type BulkOperationUserError { code: BulkOperationUserErrorCode field: [String!] message: String! }
type BulkOperationRunQueryPayload {
  bulkOperation: BulkOperation
  userErrors: [BulkOperationUserError!]!
}

input WebhookSubscriptionInput {
  uri: String
  format: WebhookSubscriptionFormat = JSON
  includeFields: [String!]
}
type WebhookSubscriptionCreatePayload {
  webhookSubscription: WebhookSubscription
  userErrors: [UserError!]!
}
type WebhookSubscriptionDeletePayload { deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }

input CustomerInput {
  id: ID
  firstName: String
  lastName: String
  email: String
  phone: String
  note: String
}
type CustomerUpdatePayload { customer: Customer userErrors: [UserError!]! }
enum CustomerRequestDataErasureErrorCode { DOES_NOT_EXIST FAILED_TO_REQUEST }
type CustomerRequestDataErasureUserError {
  code: CustomerRequestDataErasureErrorCode
  field: [String!]
  message: String!
}
type CustomerRequestDataErasurePayload {
  customerId: ID
  userErrors: [CustomerRequestDataErasureUserError!]!
}

input CustomerEmailMarketingConsentInput {
  consentUpdatedAt: DateTime
  marketingOptInLevel: CustomerMarketingOptInLevel
  marketingState: CustomerEmailMarketingState!
  sourceLocationId: ID
}
input CustomerEmailMarketingConsentUpdateInput {
  customerId: ID!
  emailMarketingConsent: CustomerEmailMarketingConsentInput!
}
enum CustomerEmailMarketingConsentUpdateUserErrorCode {
  INCLUSION INTERNAL_ERROR INVALID MISSING_ARGUMENT
}
type CustomerEmailMarketingConsentUpdateUserError {
  code: CustomerEmailMarketingConsentUpdateUserErrorCode
  field: [String!]
  message: String!
}
type CustomerEmailMarketingConsentUpdatePayload {
  customer: Customer
  userErrors: [CustomerEmailMarketingConsentUpdateUserError!]!
}
input CustomerSmsMarketingConsentInput {
  consentUpdatedAt: DateTime
  marketingOptInLevel: CustomerMarketingOptInLevel
  marketingState: CustomerSmsMarketingState!
  sourceLocationId: ID
}
input CustomerSmsMarketingConsentUpdateInput {
  customerId: ID!
  smsMarketingConsent: CustomerSmsMarketingConsentInput!
}
enum CustomerSmsMarketingConsentErrorCode { INCLUSION INTERNAL_ERROR INVALID MISSING_ARGUMENT }
type CustomerSmsMarketingConsentError {
  code: CustomerSmsMarketingConsentErrorCode
  field: [String!]
  message: String!
}
type CustomerSmsMarketingConsentUpdatePayload {
  customer: Customer
  userErrors: [CustomerSmsMarketingConsentError!]!
}
type TagsAddPayload { node: Node userErrors: [UserError!]! }
type TagsRemovePayload { node: Node userErrors: [UserError!]! }

type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  inventoryAdjustQuantities(
    input: InventoryAdjustQuantitiesInput!
  ): InventoryAdjustQuantitiesPayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  bulkOperationRunQuery(query: String!): BulkOperationRunQueryPayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!,
                            webhookSubscription: WebhookSubscriptionInput!
  ): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  customerUpdate(input: CustomerInput!): CustomerUpdatePayload
  customerRequestDataErasure(customerId: ID!): CustomerRequestDataErasurePayload
  customerEmailMarketingConsentUpdate(
    input: CustomerEmailMarketingConsentUpdateInput!
  ): CustomerEmailMarketingConsentUpdatePayload
  customerSmsMarketingConsentUpdate(
    input: CustomerSmsMarketingConsentUpdateInput!
  ): CustomerSmsMarketingConsentUpdatePayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
}
"""
