-- A neutralised copy must never take or refund real payments with the production merchant.
UPDATE payment_provider
   SET paytrail_merchant_id = NULL, paytrail_secret = NULL,
       paytrail_api_url = 'https://services.paytrail.com'
 WHERE code = 'paytrail';
